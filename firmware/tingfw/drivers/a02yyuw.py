"""DFRobot A02YYUW (SEN0311) waterproof ultrasonic sensor on a UART at 9600 8N1.

Frame: 0xFF, DATA_H, DATA_L, SUM with SUM = (0xFF + DATA_H + DATA_L) & 0xFF; distance in mm.
The parser is pure (bytes in, distances out) and resynchronises on 0xFF after garbage.
"""

HEADER = 0xFF


class FrameParser:
    """Feed UART bytes; collects checked distances. Counts frames rejected by checksum."""

    def __init__(self):
        self._frame = bytearray(4)
        self._have = 0
        self.bad_checksums = 0

    def feed(self, data, out):
        """Parse `data`, appending each valid distance (mm) to list `out`."""
        frame = self._frame
        for byte in data:
            if self._have == 0:
                if byte == HEADER:
                    frame[0] = byte
                    self._have = 1
                continue
            frame[self._have] = byte
            self._have += 1
            if self._have < 4:
                continue
            if (frame[0] + frame[1] + frame[2]) & 0xFF == frame[3]:
                out.append((frame[1] << 8) | frame[2])
                self._have = 0
            else:
                self.bad_checksums += 1
                # A lost byte shifts the frame: restart at the next 0xFF inside the bad one.
                self._have = 0
                for index in (1, 2, 3):
                    if frame[index] == HEADER:
                        tail = frame[index:4]
                        self._have = 0
                        self.feed(tail, out)
                        break


class A02YYUW:
    """read_mm() -> distance in mm, or None when no valid frame came within timeout_ms.

    The sensor reports 0 or 0xFFFF-ish values when it has no echo; anything outside
    [min_mm, max_mm] is returned as None-equivalent by the caller's filter, not here:
    this driver only guarantees the value came in a checksummed frame.
    """

    def __init__(self, uart, clock, timeout_ms=400, discard_frames=1):
        self._uart = uart
        self._clock = clock
        self._parser = FrameParser()
        self.timeout_ms = timeout_ms
        # The first frames after power-up can be stale; skip them (once per power-up).
        self.discard_frames = discard_frames
        self._to_discard = discard_frames
        # The sensor streams a frame every ~100 ms by itself: no pause needed between samples.
        self.sample_gap_ms = 0

    def powered_up(self):
        self._to_discard = self.discard_frames

    def read_mm(self):
        values = []  # type: list[int]
        uart = self._uart
        # Drop whatever queued up meanwhile: we want a fresh reading. One read()
        # takes the whole buffer; a loop could spin forever on a streaming sensor.
        if uart.any():
            uart.read()
        start = self._clock.ticks_ms()
        while True:
            if uart.any():
                data = uart.read()
                if data:
                    self._parser.feed(data, values)
                if len(values) > self._to_discard:
                    self._to_discard = 0
                    return values[-1]
            if self._clock.ticks_ms() - start >= self.timeout_ms:
                return None
            self._clock.sleep_ms(10)

    @property
    def bad_checksums(self):
        return self._parser.bad_checksums
