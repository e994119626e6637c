# Modem emulators for the AT-modem tests: they print the exact response strings of firmware.md §4
# (Seeed wiki/forum transcripts, RUI3 service_lora.c) and of the modules' AT manuals, through a
# scripted UART on a manual clock. Imported by mpy_at_modem.py and mpy_at_streetlight.py.
from tingfw.radio.at_modem import Rui3, WioE5
from tingfw.radio.clock import ManualClock

NOISE = ["+INFO: Input timeout", "", "garbage without prefix", "+LOG: something else"]
GPS_2026_11_23 = 1479470236  # 2026-11-23 11:56:58 UTC in GPS epoch seconds (18 leap seconds)


def timed(lines, noise, step_ms):
    """[(delay_ms, line)], one line per step, with a noise line before each when asked."""
    out = []
    for index, line in enumerate(lines):
        if noise:
            out.append((index * step_ms + 3, NOISE[index % len(NOISE)]))
        out.append((index * step_ms + 8, line))
    return out


class ScriptedUart:
    """A UART whose far end is `modem.respond(command)` -> [(delay_ms, line)]; lines become readable
    after their delay on the shared clock and are handed out a few bytes at a time."""

    def __init__(self, clock, modem, chunk=7):
        self.clock = clock
        self.modem = modem
        self.chunk = chunk
        self.pending = []  # [ready_ms, bytes], in ready order
        self.commands = []

    def write(self, data):
        text = data.decode()
        assert text.endswith("\r\n"), text
        self.commands.append(text[:-2])
        for delay_ms, line in self.modem.respond(text[:-2]):
            self.inject(delay_ms, line)

    def inject(self, delay_ms, line):
        raw = line if isinstance(line, bytes) else line.encode()
        self.pending.append([self.clock.ticks_ms() + delay_ms, raw + b"\r\n"])
        self.pending.sort(key=lambda entry: entry[0])

    def read(self):
        now_ms = self.clock.ticks_ms()
        out = b""
        while self.pending and self.pending[0][0] <= now_ms and len(out) < self.chunk:
            entry = self.pending[0]
            take = entry[1][:self.chunk - len(out)]
            out += take
            entry[1] = entry[1][len(take):]
            if not entry[1]:
                self.pending.pop(0)
        return out or None


class WioE5Emulator:
    def __init__(self, join="joined", ack=True, downlink=None, noise=False, up_counter=7):
        self.join = join  # joined | failed | failed-no-done | silent | not-otaa
        self.ack = ack
        self.downlink = downlink  # a complete 'PORT: n; RX: "..."' text, or None
        self.noise = noise
        self.joined = False
        self.up_counter = up_counter
        self.send_result = "normal"  # normal | not-joined | length | silent-after-start
        self.dtr_pending = False
        self.time_answer = True  # the network answers a DeviceTimeReq
        self.rtc_reply = "+RTC: 2026-11-23 11:56:58+00:00, %d, 3" % GPS_2026_11_23  # None: silent

    def _lines(self, lines):
        return timed(lines, self.noise, 40)

    def respond(self, cmd):
        if cmd == "AT":
            return self._lines(["+AT: OK"])
        for name in ("MODE", "DR", "CLASS", "ADR", "PORT"):
            if cmd.startswith("AT+%s=" % name):
                return self._lines(["+%s: %s" % (name, cmd.split("=", 1)[1])])
        if cmd.startswith("AT+ID="):
            kind, value = cmd[6:].split(",")
            value = value.strip('"')
            return self._lines(["+ID: %s, %s" % (kind, ":".join(value[i:i + 2] for i in range(0, 16, 2)))])
        if cmd.startswith("AT+KEY=APPKEY,"):
            key = cmd.split(",")[1].strip('"')
            return self._lines(["+KEY: APPKEY %s" % key] if len(key) == 32 else ["+KEY: ERROR(-1)"])
        if cmd == "AT+JOIN":
            return self._join()
        if cmd == "AT+LW=DTR":
            self.dtr_pending = True
            return self._lines(["+LW: DTR"])
        if cmd == "AT+RTC=FULL":
            return self._lines([self.rtc_reply]) if self.rtc_reply else []
        if cmd == "AT+LW=ULDL":
            return self._lines(["+LW: ULDL, %d, 2" % self.up_counter])
        if cmd.startswith("AT+MSGHEX=") or cmd.startswith("AT+CMSGHEX="):
            return self._send(cmd[3:cmd.index("=")], cmd.startswith("AT+C"))
        return self._lines(["+ERROR: unknown"])

    def _join(self):
        if self.join == "silent":
            return []
        if self.join == "not-otaa":
            return self._lines(["+JOIN: Not in OTAA mode"])
        if self.join == "already":
            return self._lines(["+JOIN: Joined already"])
        lines = ["+JOIN: Start", "+JOIN: NORMAL"]
        if self.join == "joined":
            self.joined = True
            lines += ["+JOIN: Network joined", "+JOIN: NetID 000013 DevAddr 26:01:5F:66", "+JOIN: Done"]
        else:
            lines += ["+JOIN: Join failed"] + (["+JOIN: Done"] if self.join == "failed" else [])
        timed = self._lines(lines)
        return [(delay + (6000 if index >= 2 else 0), line) for index, (delay, line) in enumerate(timed)]

    def _send(self, name, confirmed):
        head = "+%s: " % name
        if self.send_result == "not-joined" or not self.joined:
            return self._lines([head + "Please join network first", head + "Done"])
        if self.send_result == "length":
            return self._lines([head + "Length error 0"])
        if self.send_result == "silent-after-start":
            return self._lines([head + "Start"])
        self.up_counter += 1
        lines = [head + "Start"]
        if confirmed:
            lines.append(head + "Wait ACK")
            if self.ack:
                lines += [head + "FPENDING", head + "ACK Received"]
        if self.downlink:
            lines += [head + self.downlink, head + "RXWIN1, RSSI -43, SNR 10.0"]
        elif self.dtr_pending and self.time_answer:  # DeviceTimeAns in FOpts: no port, still a window line
            lines.append(head + "RXWIN1, RSSI -51, SNR 9.5")
        self.dtr_pending = False
        lines.append(head + "Done")
        return self._lines(lines)


class Rui3Emulator:
    def __init__(self, join="joined", ack=True, rx_event=None, noise=False):
        self.join = join  # joined | rx-timeout | silent | error
        self.ack = ack
        self.rx_event = rx_event  # printed after the send result, as LoRaMac-node orders confirm/indication
        self.noise = noise
        self.joined = False
        self.send_result = "normal"  # normal | busy | silent-after-ok
        self.cfm = 0
        self.timereq = False
        self.time_event = "+EVT:TIMEREQ_OK"  # printed after the send result; None: no answer
        self.ltime = "LTIME:11h56m58s on 23/11/2026"  # None: silent

    def _lines(self, lines):
        return timed(lines, self.noise, 30)

    def respond(self, cmd):
        if cmd.startswith("AT+JOIN="):
            if self.join == "error":
                return self._lines(["AT_PARAM_ERROR"])
            if self.join == "silent":
                return self._lines(["OK"])
            self.joined = self.join == "joined"
            event = "+EVT:JOINED" if self.joined else "+EVT:JOIN_FAILED_RX_TIMEOUT"
            return self._lines(["OK"]) + [(7000, event)]
        if cmd.startswith("AT+SEND="):
            if not self.joined:
                return self._lines(["AT_NO_NETWORK_JOINED"])
            if self.send_result == "busy":
                return self._lines(["AT_BUSY_ERROR"])
            if self.send_result == "silent-after-ok":
                return self._lines(["OK"])
            confirmed = self.cfm == 1
            result = "+EVT:TX_DONE"
            if confirmed:
                result = "+EVT:SEND_CONFIRMED_OK" if self.ack else "+EVT:SEND_CONFIRMED_FAILED(4)"
            lines = self._lines(["OK"]) + [(2500, result)]
            if self.rx_event:
                lines.append((2540, self.rx_event))
            if self.timereq and self.time_event:
                lines.append((2560, self.time_event))
            self.timereq = False
            return lines
        if cmd == "AT+TIMEREQ=1":
            self.timereq = True
        if cmd == "AT+LTIME=?":
            return self._lines([self.ltime, "OK"]) if self.ltime else []
        if cmd.startswith("AT+CFM="):
            self.cfm = int(cmd[7:])
        if cmd.startswith("AT+APPKEY=") and len(cmd) != 10 + 32:
            return self._lines(["AT_PARAM_ERROR"])
        return self._lines(["OK"])


def wio(**options):
    clock = ManualClock(1000)
    modem = WioE5Emulator(**options)
    uart = ScriptedUart(clock, modem)
    return clock, modem, uart, WioE5(uart, clock)


def rui3(**options):
    clock = ManualClock(1000)
    modem = Rui3Emulator(**options)
    uart = ScriptedUart(clock, modem)
    return clock, modem, uart, Rui3(uart, clock)
