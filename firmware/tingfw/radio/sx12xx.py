"""The MAC's radio interface over micropython-lib's `lora` drivers (SX126x, SX127x, STM32WL5).

    from lora import SX1262
    modem = SX1262(spi, cs, busy, dio1, dio3_tcxo_millivolts=1800, reset=reset)
    radio = Sx12xxRadio(modem, clock)          # pass to lorawan.Device

The modem must be a synchronous one (`lora-sync`: send/recv block). LoRaWAN settings:
public sync word 0x34, 8-symbol preamble, explicit header, CR 4/5; uplinks with a payload
CRC and normal IQ; downlinks received with inverted IQ and no CRC required.
"""

import time

SYNC_WORD_PUBLIC = 0x34
PREAMBLE_SYMBOLS = 8
# A receiver needs this many preamble symbols to lock (LoRaMac-node's default MinRxSymbols).
MIN_RX_SYMBOLS = 6


def _freq_khz(freq_hz):
    # lora_cfg takes kHz; keep an int when exact, a float for the 100 Hz raster otherwise
    return freq_hz // 1000 if freq_hz % 1000 == 0 else freq_hz / 1000


def rx_timeout_ms(sf, bw_khz, window_ms, min_symbols=MIN_RX_SYMBOLS):
    """The receive timeout: the MAC's window, but never shorter than the preamble lock time."""
    symbol_us = (1 << sf) * 1000 // bw_khz
    lock_ms = -(-min_symbols * symbol_us // 1000)
    return window_ms if window_ms > lock_ms else lock_ms


class Sx12xxRadio:
    def __init__(self, modem, clock, tx_ant=None, rx_boost=None, hw_ticks_ms=None, ticks_diff=None):
        self.modem = modem
        self.clock = clock
        # the driver stamps TX end with time.ticks_ms(); translate it into the MAC clock
        self._hw_ticks_ms = hw_ticks_ms or time.ticks_ms
        self._ticks_diff = ticks_diff or time.ticks_diff
        self.last_rssi_dbm = None
        self.last_snr_db = None
        # Two config dicts reused for every operation: no allocation per frame.
        self._tx_cfg = {
            "freq_khz": 868100, "sf": 7, "bw": "125", "coding_rate": 5, "output_power": 14,
            "syncword": SYNC_WORD_PUBLIC, "preamble_len": PREAMBLE_SYMBOLS, "implicit_header": False,
            "crc_en": True, "invert_iq_tx": False,
        }
        self._rx_cfg = {
            "freq_khz": 869525, "sf": 12, "bw": "125", "coding_rate": 5,
            "syncword": SYNC_WORD_PUBLIC, "preamble_len": PREAMBLE_SYMBOLS, "implicit_header": False,
            "crc_en": False, "invert_iq_rx": True,
        }
        if tx_ant is not None:
            self._tx_cfg["tx_ant"] = tx_ant  # "PA_BOOST" on most SX1276 boards
        if rx_boost is not None:
            self._rx_cfg["rx_boost"] = rx_boost
        self._listening = False

    def transmit(self, payload, freq_hz, sf, bw_khz, power_dbm):
        self._listening = False
        cfg = self._tx_cfg
        cfg["freq_khz"] = _freq_khz(freq_hz)
        cfg["sf"] = sf
        cfg["bw"] = str(bw_khz)
        cfg["output_power"] = power_dbm
        self.modem.configure(cfg)
        end_hw_ms = self.modem.send(payload)
        return self.clock.ticks_ms() - self._ticks_diff(self._hw_ticks_ms(), end_hw_ms)

    def _configure_rx(self, freq_hz, sf, bw_khz):
        cfg = self._rx_cfg
        cfg["freq_khz"] = _freq_khz(freq_hz)
        cfg["sf"] = sf
        cfg["bw"] = str(bw_khz)
        self.modem.configure(cfg)

    def _accept(self, packet):
        if not packet or not getattr(packet, "valid_crc", True):
            return None
        self.last_rssi_dbm = getattr(packet, "rssi", None)
        snr_x4 = getattr(packet, "snr", None)  # the driver reports dB x 4
        self.last_snr_db = None if snr_x4 is None else snr_x4 / 4
        return bytes(packet)

    def receive(self, freq_hz, sf, bw_khz, open_at_ms, window_ms):
        self._listening = False
        self._configure_rx(freq_hz, sf, bw_khz)  # before the wait: the window opens on time
        wait_ms = open_at_ms - self.clock.ticks_ms()
        if wait_ms > 0:
            self.clock.sleep_ms(wait_ms)
        # SX127x turns the timeout into a symbol timeout (stop if no preamble); SX126x stops
        # its timer on a detected header, so a frame that started in the window completes.
        return self._accept(self.modem.recv(timeout_ms=rx_timeout_ms(sf, bw_khz, window_ms)))

    def listen(self, freq_hz, sf, bw_khz):
        self._configure_rx(freq_hz, sf, bw_khz)
        self.modem.start_recv(timeout_ms=None, continuous=True)
        self._listening = True

    def poll(self):
        if not self._listening:
            return None
        result = self.modem.poll_recv()
        if result is True or result is False or result is None:
            return None  # still receiving, or nothing
        return self._accept(result)

    def sleep(self):
        self._listening = False
        self.modem.sleep()
