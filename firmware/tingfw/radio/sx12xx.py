"""The MAC's radio interface over micropython-lib's `lora` drivers (SX126x, SX127x, STM32WL5).

    from lora import SX1262
    modem = SX1262(spi, cs, busy, dio1, dio3_tcxo_millivolts=1800, reset=reset)
    radio = Sx12xxRadio(modem, clock, light_sleep=clock.light_sleep_ms)   # pass to lorawan.Device

It drives the drivers' low-level API (prepare_send/start_send/poll_send, start_recv/poll_recv,
get_time_on_air_us) instead of lora-sync's blocking send()/recv(), which keep the MCU awake
(~30 mA on an ESP32-S3) for the whole time on air and receive window. Here the MCU light-sleeps
through the known part of each wait - the time on air minus a wake-up margin, the RX window's
timeout - and then polls the modem, which works on by itself (SPI and GPIO keep their state
through light sleep on ESP32 and RP2040; the TX-done/RX-done flags wait in the chip's IRQ
register, so no edge can be missed). `light_sleep(ms)` comes from the board layer
(WatchdogClock.light_sleep_ms: machine.lightsleep in watchdog-sized slices); None = stay awake.

LoRaWAN settings: public sync word 0x34, 8-symbol preamble, explicit header, CR 4/5; uplinks
with a payload CRC and normal IQ; downlinks received with inverted IQ and no CRC required.
"""

import time

SYNC_WORD_PUBLIC = 0x34
PREAMBLE_SYMBOLS = 8
# A receiver needs this many preamble symbols to lock (LoRaMac-node's default MinRxSymbols).
MIN_RX_SYMBOLS = 6
# Light sleep ends this early before the expected TX end, plus 1/32 of the sleep for the sleep
# timer's drift and the wake-up latency: the TX-done time, polled awake, times RX1 and must not be
# late. The same before a receive window, which must open on time (its slack is 20 ms).
TX_WAKE_EARLY_MS = 5
RX_WAKE_EARLY_MS = 5
WAKE_EARLY_SHIFT = 5
LIGHT_SLEEP_MIN_MS = 10  # shorter waits are not worth a sleep's entry and exit
AWAKE_STEP_MS = 50  # awake waits in steps below WatchdogClock.idle_min_ms (which would light-sleep)
TX_POLL_MS = 1
TX_LIMIT_SLACK_MS = 2000  # a TX-done this late means the radio is stuck: give up, stay alive
MAX_DOWNLINK_PHY_B = 255


def _freq_khz(freq_hz):
    # lora_cfg takes kHz; keep an int when exact, a float for the 100 Hz raster otherwise
    return freq_hz // 1000 if freq_hz % 1000 == 0 else freq_hz / 1000


def rx_timeout_ms(sf, bw_khz, window_ms, min_symbols=MIN_RX_SYMBOLS):
    """The receive timeout: the MAC's window, but never shorter than the preamble lock time."""
    symbol_us = (1 << sf) * 1000 // bw_khz
    lock_ms = -(-min_symbols * symbol_us // 1000)
    return window_ms if window_ms > lock_ms else lock_ms


class Sx12xxRadio:
    def __init__(self, modem, clock, tx_ant=None, rx_boost=None, hw_ticks_ms=None, ticks_diff=None,
                 light_sleep=None):
        self.modem = modem
        self.clock = clock
        self._light_sleep = light_sleep
        self.light_slept_ms = 0  # total handed to light_sleep (what the energy bench charges as sleep)
        self.tx_timeouts = 0
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
        modem = self.modem
        modem.configure(cfg)
        modem.prepare_send(payload)
        airtime_ms = modem.get_time_on_air_us(len(payload)) // 1000
        modem.start_send()
        start_ms = self.clock.ticks_ms()
        self._doze(airtime_ms - (airtime_ms >> WAKE_EARLY_SHIFT) - TX_WAKE_EARLY_MS)
        while True:
            end_hw_ms = modem.poll_send()
            if end_hw_ms is not True:
                break
            if self.clock.ticks_ms() - start_ms > airtime_ms + TX_LIMIT_SLACK_MS:
                modem.standby()  # no TX-done: the MAC's windows will simply hear nothing
                self.tx_timeouts += 1
                return self.clock.ticks_ms()
            self.clock.sleep_ms(TX_POLL_MS)
        if end_hw_ms is False:  # not sending after all (the driver lost track): now is the best guess
            return self.clock.ticks_ms()
        return self.clock.ticks_ms() - self._ticks_diff(self._hw_ticks_ms(), end_hw_ms)

    def _doze(self, ms):
        """Wait ms with the MCU in light sleep if the board allows it (the radio keeps working)."""
        if ms <= 0:
            return
        if self._light_sleep is not None and ms >= LIGHT_SLEEP_MIN_MS:
            self._light_sleep(ms)
            self.light_slept_ms += ms
        else:
            self._awake(ms)

    def _awake(self, ms):
        while ms > 0:
            step = ms if ms < AWAKE_STEP_MS else AWAKE_STEP_MS
            self.clock.sleep_ms(step)
            ms -= step

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
            early_ms = (wait_ms >> WAKE_EARLY_SHIFT) + RX_WAKE_EARLY_MS
            self._doze(wait_ms - early_ms)
            self._awake(open_at_ms - self.clock.ticks_ms())
        # SX127x turns the timeout into a symbol timeout (stop if no preamble); SX126x stops
        # its timer on a detected header, so a frame that started in the window completes.
        timeout_ms = rx_timeout_ms(sf, bw_khz, window_ms)
        modem = self.modem
        modem.start_recv(timeout_ms=timeout_ms)
        start_ms = self.clock.ticks_ms()
        self._doze(timeout_ms)  # the radio gives up by itself unless a preamble came
        # then a frame may still be arriving: poll every 4 symbols until it is in, bounded by the longest one
        step_ms = max(4 * (1 << sf) // bw_khz, LIGHT_SLEEP_MIN_MS)
        limit_ms = timeout_ms + modem.get_time_on_air_us(MAX_DOWNLINK_PHY_B) // 1000 + step_ms
        while True:
            result = modem.poll_recv()
            if result is not True:
                return self._accept(result)
            left_ms = limit_ms - (self.clock.ticks_ms() - start_ms)
            if left_ms <= 0:
                modem.standby()
                return None
            self._doze(step_ms if step_ms < left_ms else left_ms)

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
