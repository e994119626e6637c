"""LoRaWAN through an AT-command module that runs the MAC itself: Seeed Wio-E5, RAK3172 (RUI3).

Same app-facing API as `lorawan.Device` (docs/ARCHITECTURE.md):

    link = WioE5(machine.UART(1, 9600), clock)        # or Rui3(machine.UART(1, 115200), clock)
    link.configure(dev_eui="...", join_eui="...", app_key="...")
    if link.join():
        result = link.send(2, payload, confirmed=True)  # .acked, .downlinks, .fcnt_up

The UART is passed in (anything with write(bytes) and read() -> bytes or None) and so is the
clock. A module that stays silent raises AtTimeout; a refusal raises AtModemError with the
module's reason. Keys never appear in an error message: errors name the command only.
"""

import binascii

from tingfw.radio import at_parser as p

_READ_PAUSE_MS = 10


class AtModemError(Exception):
    pass


class AtTimeout(AtModemError):
    pass


class SendResult:
    def __init__(self, fcnt_up, acked, downlinks, fpending):
        self.fcnt_up = fcnt_up  # None where unknown (see each dialect's send)
        self.acked = acked  # True/False for a confirmed uplink, None otherwise
        self.downlinks = downlinks  # [(fport, bytes)]
        self.fpending = fpending  # the network has more to send; None where the module does not tell


def _hex(data):
    return binascii.hexlify(data).decode().upper()


def _eui_hex(value):
    text = value.replace(":", "").replace("-", "").upper()
    if len(text) != 16:
        raise AtModemError("an EUI must be 16 hex digits")
    return text


class _AtLink:
    """Line reading, command/response exchange and downlink collection shared by both dialects."""

    def __init__(self, uart, clock, parse_downlink, join_timeout_ms=30000, send_timeout_ms=40000,
                 command_timeout_ms=2000):
        self.uart = uart
        self._parse_downlink = parse_downlink  # each dialect's downlink line grammar
        self.clock = clock
        self.join_timeout_ms = join_timeout_ms
        self.send_timeout_ms = send_timeout_ms
        self.command_timeout_ms = command_timeout_ms
        self.joined = False
        self.ignored_lines = 0  # lines no table knew: counted, never fatal
        self._buffer = b""
        self._downlinks = []
        self._time_wanted = False  # request_device_time() was called: ask on the next send
        self._time_anchor = None  # (GPS seconds, ticks_ms when read)

    # -- lines -------------------------------------------------------------
    def _read_line(self):
        """A complete line if one is buffered or arrives now, else None."""
        while True:
            cut = self._buffer.find(b"\n")
            if cut >= 0:
                raw = self._buffer[:cut]
                self._buffer = self._buffer[cut + 1:]
                try:
                    line = raw.decode().strip()
                except UnicodeError:
                    self.ignored_lines += 1  # line noise on the wire
                    continue
                if line:
                    return line
                continue
            chunk = self.uart.read()
            if not chunk:
                return None
            self._buffer += chunk

    def _drain(self):
        # Lines left from an earlier command (a late 'Done') must not end the next one.
        while True:
            line = self._read_line()
            if line is None:
                return
            if not self._take_downlink(line):
                self._unsolicited(line)

    def _unsolicited(self, line):
        """Dialect hook: a line outside any command that is not a downlink."""
        self.ignored_lines += 1

    def _take_event(self, line):
        """Dialect hook: True if line is an asynchronous event the dialect keeps (not a command's answer)."""
        return False

    def _take_downlink(self, line):
        found = self._parse_downlink(line)
        if found is None:
            return self._take_event(line)
        self._downlinks.append(found)
        return True

    def _command(self, command, label, table, timeout_ms, terminal, body_of=None):
        """Send `command`, then read until an event in `terminal` (or an error) settles it.

        Returns the list of events seen. On timeout: the decisive event if one was seen,
        else AtTimeout naming `label` (never the command, which may hold a key)."""
        self._drain()
        self.uart.write(command.encode() + b"\r\n")
        deadline_ms = self.clock.ticks_ms() + timeout_ms
        events = []
        while True:
            line = self._read_line()
            if line is None:
                if self.clock.ticks_ms() >= deadline_ms:
                    if events and events[-1] not in (p.START, p.OK):
                        return events
                    raise AtTimeout("no answer from the module to %s within %d ms" % (label, timeout_ms))
                self.clock.sleep_ms(_READ_PAUSE_MS)
                continue
            if self._take_downlink(line):
                continue
            text = body_of(line) if body_of else line
            event = None if text is None else p.classify(text, table)
            if event is None or (event == p.DONE and p.START not in events):
                self.ignored_lines += 1  # unknown, or a late 'Done' of an earlier command
                continue
            events.append(event)
            if event in terminal or event in p.TERMINAL_ERRORS:
                return events

    def _linger(self, ms):
        deadline_ms = self.clock.ticks_ms() + ms
        while self.clock.ticks_ms() < deadline_ms:
            line = self._read_line()
            if line is None:
                self.clock.sleep_ms(_READ_PAUSE_MS)
            elif not self._take_downlink(line):
                self._unsolicited(line)

    def _raise_on_error(self, events, label):
        for event in events:
            if event == p.NOT_JOINED:
                self.joined = False
            if event in p.TERMINAL_ERRORS:
                raise AtModemError("module refused %s: %s" % (label, event))

    def _take_downlinks(self):
        found = self._downlinks
        self._downlinks = []
        return found

    # -- the app-facing API shared with lorawan.Device ---------------------
    def join(self, attempts=1):
        """OTAA join; True once joined. The module keeps and persists its own DevNonce."""
        self.joined = False
        for _ in range(attempts):
            if self._join_once():
                self.joined = True
                break
        return self.joined

    def poll(self, timeout_ms=0):
        """Class C (and late Class A) downlinks printed since the last call, [(fport, bytes)]."""
        self._linger(timeout_ms)
        self._drain()
        return self._take_downlinks()

    def request_device_time(self):
        """Ask the network for its time (DeviceTimeReq); it rides on the next send(), as in lorawan.Device."""
        self._time_wanted = True

    def network_time(self):
        """GPS epoch seconds from the module's last DeviceTimeAns, advanced by the local clock; None before."""
        anchor = self._time_anchor
        if anchor is None:
            return None
        return anchor[0] + (self.clock.ticks_ms() - anchor[1]) // 1000

    def _set_time(self, gps_s):
        if gps_s is not None:
            self._time_anchor = (gps_s, self.clock.ticks_ms())
            self._time_wanted = False

    def _try(self, method, *args):
        """method(*args), or None if the module refused or stayed silent: time is never worth an uplink."""
        try:
            return method(*args)
        except AtModemError:
            return None

    def _check_send(self, fport, payload):
        if not self.joined:
            raise AtModemError("not joined: call join() first")
        if not 1 <= fport <= 223:
            raise AtModemError("fport must be 1..223, got %d" % fport)


class WioE5(_AtLink):
    """Seeed Wio-E5 / LoRa-E5 factory AT firmware (9600 8N1)."""

    def __init__(self, uart, clock, **timeouts):
        _AtLink.__init__(self, uart, clock, p.parse_wio_downlink, **timeouts)
        self._fport = None

    def _expect_echo(self, command, name, label=None):
        """Settings answer '+NAME: value' (or '+NAME: ERROR(n)'): wait for that one line."""
        head = "+" + name + ":"
        label = label or command.split("=")[0]
        self._drain()
        self.uart.write(command.encode() + b"\r\n")
        deadline_ms = self.clock.ticks_ms() + self.command_timeout_ms
        while True:
            line = self._read_line()
            if line is None:
                if self.clock.ticks_ms() >= deadline_ms:
                    raise AtTimeout("no answer from the module to %s within %d ms" % (label, self.command_timeout_ms))
                self.clock.sleep_ms(_READ_PAUSE_MS)
            elif self._take_downlink(line):
                continue
            elif line.startswith(head):
                at = line.find("ERROR")
                if at >= 0:  # quote only the code: the rest of the line may echo a key
                    raise AtModemError("module refused %s: %s" % (label, line[at:line.find(")", at) + 1] or "ERROR"))
                return line[len(head):].strip()
            else:
                self.ignored_lines += 1

    def configure(self, dev_eui, join_eui, app_key, region="EU868", device_class="A", adr=True):
        self._expect_echo("AT", "AT")  # also wakes the module from AT+LOWPOWER
        self._expect_echo("AT+MODE=LWOTAA", "MODE")
        self._expect_echo("AT+DR=%s" % region, "DR")
        self._expect_echo("AT+CLASS=%s" % device_class, "CLASS")
        self._expect_echo('AT+ID=DevEui,"%s"' % _eui_hex(dev_eui), "ID", "AT+ID=DevEui")
        self._expect_echo('AT+ID=AppEui,"%s"' % _eui_hex(join_eui), "ID", "AT+ID=AppEui")
        if len(app_key) != 32:
            raise AtModemError("the AppKey must be 32 hex digits")
        self._expect_echo('AT+KEY=APPKEY,"%s"' % app_key.upper(), "KEY", "AT+KEY=APPKEY")
        self._expect_echo("AT+ADR=%s" % ("ON" if adr else "OFF"), "ADR")

    def _join_once(self):
        events = self._command("AT+JOIN", "AT+JOIN", p.WIO_JOIN, self.join_timeout_ms, (p.DONE, p.ALREADY_JOINED),
                               lambda line: p.wio_body(line, "JOIN"))
        if p.ERROR in events:
            raise AtModemError("module refused AT+JOIN: not in OTAA mode or bad settings")
        return p.JOINED in events or p.ALREADY_JOINED in events  # False: failed, busy or duty cycle

    def send(self, fport, payload, confirmed=False):
        self._check_send(fport, payload)
        if fport != self._fport:
            self._expect_echo("AT+PORT=%d" % fport, "PORT")
            self._fport = fport
        # LoRa-E5 AT Command Specification v1.0 (files.seeedstudio.com/products/317990687/res/LoRa-E5 AT
        # Command Specification_V1.0 .pdf), AT+LW=DTR: a buffered DeviceTimeReq sent with the next
        # MSG/CMSG/MSGHEX/CMSGHEX; the answer sets the module RTC, read back with AT+RTC=FULL.
        asked_time = self._time_wanted and self._try(self._expect_echo, "AT+LW=DTR", "LW")
        name = "CMSGHEX" if confirmed else "MSGHEX"
        events = self._command('AT+%s="%s"' % (name, _hex(payload)), "AT+" + name, p.WIO_SEND,
                               self.send_timeout_ms, (p.DONE,), lambda line: p.wio_body(line, name))
        self._raise_on_error(events, "AT+" + name)
        acked = (p.ACK in events) if confirmed else None
        result = SendResult(self._uplink_counter(), acked, self._take_downlinks(), p.FPENDING in events)
        if asked_time and p.RX_WINDOW in events:  # a downlink came back: it may carry the DeviceTimeAns
            body = self._try(self._expect_echo, "AT+RTC=FULL", "RTC")
            self._set_time(p.parse_wio_rtc(body) if body else None)
        return result

    def _uplink_counter(self):
        # '+LW: ULDL, <up>, <down>': the counter for the next uplink, so the one just sent is up - 1
        try:
            numbers = p.first_integers(self._expect_echo("AT+LW=ULDL", "LW"), 2)
        except AtModemError:
            return None
        return numbers[0] - 1 if numbers and numbers[0] > 0 else None


class Rui3(_AtLink):
    """RAK3172 (and other RUI3 modules): 115200 baud, answers OK/AT_* then +EVT: events."""

    def __init__(self, uart, clock, linger_ms=300, ltime_day_first=True, **timeouts):
        _AtLink.__init__(self, uart, clock, p.parse_rui3_downlink, **timeouts)
        self.linger_ms = linger_ms  # RUI3 may print RX events just after TX_DONE
        self.ltime_day_first = ltime_day_first  # how to read an ambiguous AT+LTIME date like 01/02/2026
        self._confirmed = None
        self._time_event = None  # TIME_OK / TIME_FAILED seen since the last send started
        self._fcnt_next = None  # counted here since our join: RUI3 has no AT command that reads FCntUp

    def _set(self, command, label=None):
        label = label or command.split("=")[0]
        events = self._command(command, label, p.RUI3_COMMAND, self.command_timeout_ms, (p.OK,))
        self._raise_on_error(events, label)
        return events

    def configure(self, dev_eui, join_eui, app_key, band=4, device_class="A"):
        """band 4 = EU868 (RUI3 AT+BAND codes). The module must already be in LoRaWAN mode (AT+NWM=1)."""
        self._set("AT+NJM=1")
        self._set("AT+BAND=%d" % band)
        self._set("AT+CLASS=%s" % device_class)
        self._set("AT+DEVEUI=%s" % _eui_hex(dev_eui))
        self._set("AT+APPEUI=%s" % _eui_hex(join_eui))
        if len(app_key) != 32:
            raise AtModemError("the AppKey must be 32 hex digits")
        self._set("AT+APPKEY=%s" % app_key.upper(), "AT+APPKEY")

    def _join_once(self):
        # one attempt per command, no auto-join: the module spaces its own retransmissions
        events = self._command("AT+JOIN=1:0:8:1", "AT+JOIN", p.RUI3_JOIN, self.join_timeout_ms,
                               (p.JOINED, p.JOIN_FAILED))
        if p.ERROR in events:
            raise AtModemError("module refused AT+JOIN")
        if p.JOINED in events:
            self._fcnt_next = 0  # a join restarts FCntUp at 0
            return True
        return False

    def _take_event(self, line):
        event = p.classify(line, p.RUI3_TIME_EVENTS)
        if event is None:
            return False
        self._time_event = event
        return True

    def _unsolicited(self, line):
        # RUI3 sends an empty uplink on its own after a confirmed downlink or FPending (service_lora.c):
        # its TX result arrives outside our commands and still uses a counter.
        if self._fcnt_next is not None and p.classify(line, p.RUI3_SEND) in (p.TX_DONE, p.ACK, p.NO_ACK):
            self._fcnt_next += 1
        else:
            self.ignored_lines += 1

    def send(self, fport, payload, confirmed=False):
        self._check_send(fport, payload)
        if confirmed != self._confirmed:
            self._set("AT+CFM=%d" % (1 if confirmed else 0))
            self._confirmed = confirmed
        # RAK3172 AT Command Manual, AT+TIMEREQ / AT+LTIME (docs.rakwireless.com/Product-Categories/WisDuo/
        # RAK3172-Evaluation-Board/AT-Command-Manual/#at-timereq): AT+TIMEREQ=1 makes the next uplink carry
        # DeviceTimeReq; '+EVT:TIMEREQ_OK' follows the uplink; AT+LTIME=? then prints the UTC time.
        asked_time = self._time_wanted and self._try(self._set, "AT+TIMEREQ=1") is not None
        self._time_event = None
        events = self._command("AT+SEND=%d:%s" % (fport, _hex(payload)), "AT+SEND", p.RUI3_SEND,
                               self.send_timeout_ms, (p.TX_DONE, p.ACK, p.NO_ACK))
        self._raise_on_error(events, "AT+SEND")
        fcnt = self._fcnt_next
        if fcnt is not None:
            self._fcnt_next = fcnt + 1
        self._linger(self.linger_ms)
        acked = (p.ACK in events) if confirmed else None
        result = SendResult(fcnt, acked, self._take_downlinks(), None)
        if asked_time and self._time_event == p.TIME_OK:
            self._read_local_time()
        return result

    def _read_local_time(self):
        lines = []

        def keep(line):
            lines.append(line)
            return line

        events = self._try(self._command, "AT+LTIME=?", "AT+LTIME", p.RUI3_COMMAND, self.command_timeout_ms,
                           (p.OK,), keep)
        if events and p.OK in events:
            for line in lines:
                gps_s = p.parse_rui3_ltime(line, self.ltime_day_first)
                if gps_s is not None:
                    self._set_time(gps_s)
                    return
