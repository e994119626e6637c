"""EU868 regional parameters (RP002-1.0.x) as data. Another region is another module of the same shape."""

NAME = "EU868"
# DR -> (spreading factor, bandwidth kHz); DR7 (FSK) and LR-FHSS are not LoRa and not offered here.
DATA_RATES = ((12, 125), (11, 125), (10, 125), (9, 125), (8, 125), (7, 125), (7, 250))
# Largest application payload N (bytes, no FOpts) per DR; MACPayload M = N + 8.
MAX_PAYLOAD = (51, 51, 51, 115, 242, 242, 242)
# Uplink DR range a default channel allows, and the DRs a join-request cycles through.
UPLINK_DR_MIN = 0
UPLINK_DR_MAX = 5
JOIN_DRS = (5, 4, 3, 2, 1, 0)
# TXPower index -> EIRP dBm (MaxEIRP 16 dBm minus 2 dB per step).
TX_POWER_DBM = (16, 14, 12, 10, 8, 6, 4, 2)
# Channels every device starts with: (frequency Hz, min DR, max DR). Index 0..2 are fixed.
DEFAULT_CHANNELS = ((868100000, 0, 5), (868300000, 0, 5), (868500000, 0, 5))
MAX_CHANNELS = 16
FREQ_MIN_HZ = 863000000
FREQ_MAX_HZ = 870000000
RX1_DELAY_MS = 1000  # RX2 opens one second after RX1
JOIN_ACCEPT_DELAY1_MS = 5000
JOIN_ACCEPT_DELAY2_MS = 6000
RX2_FREQ_HZ = 869525000
RX2_DR = 0
RX1_DR_OFFSET_MAX = 5
MAX_FCNT_GAP = None  # 1.0.4: 16-bit rollover, no gap limit
# Duty-cycle sub-bands (ETSI EN 300 220): (low Hz, high Hz, 1/duty cycle).
SUB_BANDS = (
    (863000000, 865000000, 1000),  # 0.1 %
    (865000000, 868000000, 100),  # 1 %, CFList channels 867.x
    (868000000, 868600000, 100),  # 1 %, the three default channels
    (868700000, 869200000, 1000),  # 0.1 %
    (869400000, 869650000, 10),  # 10 %, RX2
    (869700000, 870000000, 100),  # 1 %
)
ADR_ACK_LIMIT = 64
ADR_ACK_DELAY = 32
RETRANSMIT_TIMEOUT_MS = (1000, 3000)  # confirmed uplink: wait this long (random) before a retry


def rx1_dr(uplink_dr, rx1_dr_offset):
    return max(uplink_dr - rx1_dr_offset, 0)
