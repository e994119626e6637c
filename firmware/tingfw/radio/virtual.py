"""The virtual radio: a device radio on the host whose air is a Semtech UDP packet forwarder.

    clock = SystemClock(time_scale=1)
    gateway = VirtualGateway(UdpTransport("127.0.0.1", 1700), "0016c001ff10a235", clock)
    radio = VirtualRadio(gateway, clock)      # pass to the MAC like any radio

An uplink becomes a PUSH_DATA rxpk stamped with the gateway counter `tmst` (µs) at the end of
the frame, as a real concentrator does. A PULL_RESP txpk is put "on air" at its tmst (or at
once for `imme`); the radio hears it only if it listens at that moment on the same frequency,
SF and bandwidth with inverted IQ - inside a receive window, or in Class C listen mode.
Everything else is lost, as on a real radio. The counter runs on the clock passed in, so a
time-scaled clock scales the protocol timing too.
"""

import socket
import time

from loraphy.airtime import time_on_air_us  # PHY arithmetic below both the MAC and the radios

from tingfw.radio import gwmp

try:
    import select
except ImportError:  # pragma: no cover
    import uselect as select

_DATAGRAM_MAX = 2048
_POLL_STEP_MS = 5  # wall-clock granularity of waits
_EU868_TX_MIN_HZ = 863000000
_EU868_TX_MAX_HZ = 870000000
_TOO_EARLY_MS = 30000
_TX_ACK_HISTORY = 64
_JIT_QUEUE_MAX = 32  # lora_pkt_fwd's JIT queue length  # a packet forwarder's JIT queue refuses packets scheduled this far ahead
# Channel index as an 8-channel EU868 gateway numbers them (3 defaults, then 867.1-867.9 MHz).
_CHANNELS_HZ = (868100000, 868300000, 868500000, 867100000, 867300000, 867500000, 867700000, 867900000)


class UdpTransport:
    """A UDP socket to the network server's packet-forwarder port: the only I/O of this module."""

    def __init__(self, host, port):
        self._address = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0][-1]
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.connect(self._address)
        self._poller = select.poll()
        self._poller.register(self._sock, select.POLLIN)
        self.send_errors = 0

    def send(self, datagram):
        try:
            self._sock.send(datagram)
        except OSError:  # ECONNREFUSED while no server listens: UDP is lossy, a gateway carries on
            self.send_errors += 1

    def recv(self, timeout_ms=0):
        """One datagram, or None when none arrives within timeout_ms (wall clock)."""
        if not self._poller.poll(int(timeout_ms)):
            return None
        try:
            return self._sock.recv(_DATAGRAM_MAX)
        except OSError:  # e.g. ECONNREFUSED reported for an earlier send: nobody listens yet
            return None

    def close(self):
        self._sock.close()


class VirtualGateway:
    """One gateway (its own EUI and socket) serving any number of virtual radios."""

    def __init__(self, transport, gateway_eui, clock, keepalive_ms=10000, stat_interval_ms=30000):
        self.transport = transport
        self.gateway_eui = gwmp.eui_bytes(gateway_eui)
        self.clock = clock
        # clock ms between socket checks while waiting: 5 ms of wall time whatever the time scale
        self.poll_step_ms = max(1, int(_POLL_STEP_MS * getattr(clock, "time_scale", 1)))
        self.keepalive_ms = keepalive_ms
        self.stat_interval_ms = stat_interval_ms  # gateway statistics, as a packet forwarder sends them
        self._token = 0
        self._last_pull_ms = None
        self._last_stat_ms = clock.ticks_ms()
        self._stat_counts = [0, 0, 0]  # uplinks, PULL_RESP received, downlinks accepted since the last stat
        self._downlinks = []  # [air_ms, freq_hz, sf, bw_khz, ipol, payload, end_ms]
        # Set while a Class C receiver listens continuously (since that tick): a frame that went on air
        # since then was heard, so it waits for the next poll however far a simulated clock jumps.
        self.listening_since_ms = None
        # counters a test or a fleet report can read
        self.push_sent = 0
        self.push_acked = 0
        self.pull_sent = 0
        self.pull_acked = 0
        self.tx_acks = []  # (token, error) of the latest PULL_RESPs, at most _TX_ACK_HISTORY
        self.tx_ack_counts = {}  # error -> count, over the gateway's life
        self.bad_datagrams = 0
        self._periodic()  # announce ourselves (PULL_DATA) so the server can send PULL_RESP

    def tmst_us(self, at_ms):
        return (at_ms * 1000) & 0xFFFFFFFF

    def _next_token(self):
        self._token = (self._token + 1) & 0xFFFF
        return self._token

    def _periodic(self):
        """PULL_DATA keep-alive and PUSH_DATA stat when due."""
        now_ms = self.clock.ticks_ms()
        if self._last_pull_ms is None or now_ms - self._last_pull_ms >= self.keepalive_ms:
            self._last_pull_ms = now_ms
            self.transport.send(gwmp.encode_pull_data(self._next_token(), self.gateway_eui))
            self.pull_sent += 1
        if now_ms - self._last_stat_ms >= self.stat_interval_ms:
            self._last_stat_ms = now_ms
            counts = self._stat_counts
            acked_percent = 100.0 * self.push_acked / self.push_sent if self.push_sent else 100.0
            stat = gwmp.stat_json(time.gmtime(), counts[0], counts[2], counts[1], acked_percent)
            self.transport.send(gwmp.encode_push_data(self._next_token(), self.gateway_eui, (), stat))
            self.push_sent += 1
            self._stat_counts = [0, 0, 0]

    def push_uplink(self, payload, freq_hz, sf, bw_khz, end_ms, rssi_dbm, snr_db):
        chan = _CHANNELS_HZ.index(freq_hz) if freq_hz in _CHANNELS_HZ else 0
        item = gwmp.rxpk_json(payload, self.tmst_us(end_ms), freq_hz, sf, bw_khz, rssi_dbm, snr_db, chan=chan)
        self.transport.send(gwmp.encode_push_data(self._next_token(), self.gateway_eui, (item,)))
        self.push_sent += 1
        self._stat_counts[0] += 1

    def service(self):
        """Handle every datagram waiting now, and send a keep-alive when one is due."""
        self._periodic()
        while True:
            datagram = self.transport.recv(0)
            if datagram is None:
                return
            self._handle(datagram)

    def wait_ms(self, ms):
        """Let `ms` of clock time pass while serving the socket."""
        deadline_ms = self.clock.ticks_ms() + ms
        step_ms = self.poll_step_ms
        while True:
            self.service()
            remaining_ms = deadline_ms - self.clock.ticks_ms()
            if remaining_ms <= 0:
                return
            self.clock.sleep_ms(min(remaining_ms, step_ms))

    def _handle(self, datagram):
        try:
            identifier, token, _eui, body = gwmp.parse_datagram(datagram)
            if identifier == gwmp.PUSH_ACK:
                self.push_acked += 1
            elif identifier == gwmp.PULL_ACK:
                self.pull_acked += 1
            elif identifier == gwmp.PULL_RESP:
                self._schedule(token, gwmp.parse_txpk(body))
            else:
                self.bad_datagrams += 1  # a gateway-to-server message sent to us
        except gwmp.GwmpError:
            self.bad_datagrams += 1

    def _schedule(self, token, txpk):
        now_ms = self.clock.ticks_ms()
        self._stat_counts[1] += 1
        if txpk["imme"]:
            air_ms = now_ms
        else:
            # tmst is a wrapping 32-bit µs counter: take the signed distance from now
            delta_us = (txpk["tmst_us"] - self.tmst_us(now_ms)) & 0xFFFFFFFF
            if delta_us >= 0x80000000:
                delta_us -= 0x100000000
            air_ms = now_ms + delta_us // 1000
        payload = txpk["payload"]
        end_ms = air_ms + time_on_air_us(len(payload), txpk["sf"], txpk["bw_khz"], crc=False) // 1000
        self._forget_past(now_ms)
        if not _EU868_TX_MIN_HZ <= txpk["freq_hz"] <= _EU868_TX_MAX_HZ:
            error = gwmp.TX_FREQ
        elif air_ms < now_ms:
            error = gwmp.TX_TOO_LATE
        elif air_ms - now_ms > _TOO_EARLY_MS:
            error = gwmp.TX_TOO_EARLY
        elif len(self._downlinks) >= _JIT_QUEUE_MAX or self._overlaps(air_ms, end_ms):
            error = gwmp.TX_COLLISION  # one TX chain: a packet forwarder's JIT queue refuses overlaps
        else:
            error = gwmp.TX_OK
            self._stat_counts[2] += 1
            self._downlinks.append([air_ms, txpk["freq_hz"], txpk["sf"], txpk["bw_khz"], txpk["ipol"], payload,
                                    end_ms])
        self.tx_ack_counts[error] = self.tx_ack_counts.get(error, 0) + 1
        if len(self.tx_acks) >= _TX_ACK_HISTORY:
            self.tx_acks.pop(0)
        self.tx_acks.append((token, error))
        self.transport.send(gwmp.encode_tx_ack(token, self.gateway_eui, error))

    def _overlaps(self, air_ms, end_ms):
        for entry in self._downlinks:
            if air_ms <= entry[6] and entry[0] <= end_ms:
                return True
        return False

    def _forget_past(self, now_ms):
        # Frames that went on air while no radio listened are gone. The grace keeps one that
        # started a moment ago for a receive loop that has not looked yet.
        oldest_ms = now_ms - (10 * self.poll_step_ms + 1000)
        heard_from_ms = self.listening_since_ms
        self._downlinks = [entry for entry in self._downlinks
                           if entry[6] >= oldest_ms or (heard_from_ms is not None and entry[0] >= heard_from_ms)]

    def take_downlink(self, freq_hz, sf, bw_khz, listen_from_ms, listen_until_ms):
        """The first downlink on air between the two times that a receiver so tuned hears; it is consumed."""
        now_ms = self.clock.ticks_ms()
        self._forget_past(now_ms)
        for entry in self._downlinks:
            if (listen_from_ms <= entry[0] <= min(listen_until_ms, now_ms) and entry[1] == freq_hz
                    and entry[2] == sf and entry[3] == bw_khz and entry[4]):
                self._downlinks.remove(entry)
                return entry
        return None


class VirtualRadio:
    """The MAC's radio interface over a VirtualGateway (see ARCHITECTURE.md)."""

    def __init__(self, gateway, clock, rssi_dbm=-80, snr_db=9.5):
        self.gateway = gateway
        self.clock = clock
        self.rssi_dbm = rssi_dbm
        self.snr_db = snr_db
        # what the MAC may read after a reception (DevStatusAns margin): the link is taken as symmetric
        self.last_rssi_dbm = None
        self.last_snr_db = None
        self._listening = None  # (freq_hz, sf, bw_khz, since_ms) in Class C

    def transmit(self, payload, freq_hz, sf, bw_khz, power_dbm):
        self._listen_continuously(None)  # a half-duplex radio hears nothing while sending
        self.gateway.wait_ms(time_on_air_us(len(payload), sf, bw_khz) // 1000)
        end_ms = self.clock.ticks_ms()
        self.gateway.push_uplink(payload, freq_hz, sf, bw_khz, end_ms, self.rssi_dbm, self.snr_db)
        return end_ms

    def receive(self, freq_hz, sf, bw_khz, open_at_ms, window_ms):
        """Bytes of a downlink whose preamble starts inside the window, else None at the window's end."""
        self._listen_continuously(None)
        wait_ms = open_at_ms - self.clock.ticks_ms()
        if wait_ms > 0:
            self.gateway.wait_ms(wait_ms)
        close_ms = open_at_ms + window_ms
        step_ms = self.gateway.poll_step_ms
        while True:
            self.gateway.service()
            entry = self.gateway.take_downlink(freq_hz, sf, bw_khz, open_at_ms, close_ms)
            if entry is not None:
                return self._finish_reception(entry)
            remaining_ms = close_ms - self.clock.ticks_ms()
            if remaining_ms < 0:
                return None
            self.clock.sleep_ms(min(remaining_ms + 1, step_ms))

    def _finish_reception(self, entry):
        remaining_ms = entry[6] - self.clock.ticks_ms()
        if remaining_ms > 0:
            self.gateway.wait_ms(remaining_ms)
        self.last_rssi_dbm = self.rssi_dbm
        self.last_snr_db = self.snr_db
        return entry[5]

    def listen(self, freq_hz, sf, bw_khz):
        self._listen_continuously((freq_hz, sf, bw_khz, self.clock.ticks_ms()))

    def poll(self):
        """Class C: a downlink heard since listen() or the previous poll, else None."""
        if self._listening is None:
            return None
        self.gateway.service()
        freq_hz, sf, bw_khz, since_ms = self._listening
        entry = self.gateway.take_downlink(freq_hz, sf, bw_khz, since_ms, self.clock.ticks_ms())
        if entry is None:
            return None
        return self._finish_reception(entry)

    def sleep(self):
        self._listen_continuously(None)

    def _listen_continuously(self, listening):
        self._listening = listening
        self.gateway.listening_since_ms = None if listening is None else listening[3]
