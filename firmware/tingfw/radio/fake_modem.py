"""A host stand-in for micropython-lib's lora modem drivers (SX126x timing), for tests and the energy bench.

Host only (not in the device bundle): the radio adapter tingfw.radio.sx12xx drives it exactly as it
drives lora.SX1262 on a board, on a fake clock.
"""

from loraphy.airtime import time_on_air_us


class _RxPacket(bytearray):
    pass


def FakeRxPacket(data, rssi=-95, snr_x4=26, valid_crc=True):  # noqa: N802 (stands in for lora.RxPacket)
    """What micropython-lib lora's poll_recv() returns: the payload plus rssi, snr (dB x 4), valid_crc."""
    packet = _RxPacket(data)
    packet.rssi = rssi
    packet.snr = snr_x4
    packet.valid_crc = valid_crc
    packet.ticks_ms = 0
    return packet


class FakeLoraModem:
    """micropython-lib lora's low-level modem API (configure, prepare_send/start_send/poll_send,
    start_recv/poll_recv, get_time_on_air_us, standby, sleep) on a fake clock, as an SX126x behaves:
    a frame is on air for its time on air (loraphy.airtime); a receive ends at its timeout unless a
    frame from `rx_script` (one entry per receive: None = nothing on air) arrives `rx_at_ms` into
    the window, which then completes after that frame's time on air. Hardware ticks (the driver's
    time.ticks_ms) run `hw_offset_ms` ahead and wrap at 2**30. `on_send(payload)` sees every frame
    sent (a network side may queue its answer in rx_script). `air` records [kind, start_ms, end_ms]."""

    TICKS_PERIOD = 1 << 30

    def __init__(self, clock, hw_offset_ms=0):
        self.clock = clock
        self.hw_offset_ms = hw_offset_ms
        self.cfg = {"sf": 7, "bw": "125", "crc_en": True}
        self.calls = []  # [(name, at_ms, detail)]; record_calls=False keeps a heap measurement clean
        self.record_calls = True
        self.air = []
        self.rx_script = []
        self.listen_script = []  # what poll_recv() returns in continuous (Class C) mode, in order
        self.rx_at_ms = 2
        self.on_send = None
        self.stuck = False  # True: the TX-done flag never comes
        self._payload = None
        self._tx_start_ms = None
        self._tx_end_ms = None
        self._rx = None  # [deadline, frame, frame end, start, continuous]

    def hw_ticks_ms(self):
        return (self.clock.ticks_ms() + self.hw_offset_ms) % self.TICKS_PERIOD

    def state(self):
        """"tx", "rx" or None: what the radio is doing now (the energy bench's phase of a wait)."""
        if self._tx_end_ms is not None:
            return "tx"
        return "rx" if self._rx is not None else None

    def configure(self, lora_cfg):
        if self.record_calls:
            self.calls.append(("configure", self.clock.ticks_ms(), dict(lora_cfg)))
        self.cfg.update(lora_cfg)

    def get_time_on_air_us(self, payload_len):
        return time_on_air_us(payload_len, self.cfg["sf"], int(self.cfg["bw"]), crc=self.cfg.get("crc_en", True))

    def prepare_send(self, packet):
        self._payload = bytes(packet)

    def start_send(self):
        now = self.clock.ticks_ms()
        if self.record_calls:
            self.calls.append(("start_send", now, self._payload))
        self._rx = None
        self._tx_start_ms = now
        self._tx_end_ms = now + self.get_time_on_air_us(len(self._payload)) // 1000
        if self.on_send is not None:
            self.on_send(self._payload)
        return True

    def poll_send(self):
        end_ms = self._tx_end_ms
        if end_ms is None:
            return False
        if self.stuck or self.clock.ticks_ms() < end_ms:
            return True
        self._tx_end_ms = None
        if self.record_calls:
            self.calls.append(("tx_done", end_ms, None))
        self.air.append(["tx", self._tx_start_ms, end_ms])
        return (end_ms + self.hw_offset_ms) % self.TICKS_PERIOD

    def start_recv(self, timeout_ms=None, continuous=False, rx_length=0xFF):
        now = self.clock.ticks_ms()
        if self.record_calls:
            self.calls.append(("start_recv", now, (timeout_ms, continuous)))
        frame = self.rx_script.pop(0) if (self.rx_script and not continuous) else None
        deadline = None if timeout_ms is None else now + timeout_ms
        frame_end = None
        if frame is not None:
            frame_end = now + self.rx_at_ms + self.get_time_on_air_us(len(frame)) // 1000
        self._rx = [deadline, frame, frame_end, now, continuous]
        return True

    def poll_recv(self, rx_packet=None):
        rx = self._rx
        if rx is None:
            return False
        if self.record_calls:
            self.calls.append(("poll_recv", self.clock.ticks_ms(), None))
        deadline, frame, frame_end, _start, continuous = rx
        if continuous:
            return self.listen_script.pop(0) if self.listen_script else True
        now = self.clock.ticks_ms()
        if frame is not None and now >= frame_end:
            self._end_rx(frame_end)
            return frame
        if frame is None and deadline is not None and now >= deadline:
            self._end_rx(deadline)
            return False
        return True

    def _end_rx(self, end_ms):
        self.air.append(["rx", self._rx[3], end_ms])
        self._rx = None

    def standby(self):
        if self.record_calls:
            self.calls.append(("standby", self.clock.ticks_ms(), None))
        if self._rx is not None:
            self._end_rx(self.clock.ticks_ms())
        self._tx_end_ms = None

    def sleep(self):
        self.standby()
        if self.record_calls:
            self.calls.append(("sleep", self.clock.ticks_ms(), None))

    def names(self):
        return [call[0] for call in self.calls]

