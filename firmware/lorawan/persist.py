"""Persistence that survives a power cut at any byte of any write.

Each record lives in two slots (NAME.a / NAME.b) holding sequence | body | CRC-32; a write goes to
the older slot, a read takes the valid slot with the higher sequence. So a torn or truncated write
leaves the previous record readable even on a store that is not atomic itself.

Records: "nonce" = next DevNonce and last JoinNonce, written BEFORE every join-request; "airtime" = the
duty-cycle ledger and join back-off (time left), written BEFORE every transmission; "session" = the Session, written to flash after a join and whenever FCntUp reaches the reserved limit (then
`reserve` more counters are reserved), and to the optional RTC store before every uplink (deep sleep).
A restored session resumes at the reserved limit (flash) or the exact next counter (RTC), so an
uplink counter is never used twice; a session from an older join than the nonce record is dropped.
"""

import struct

from lorawan import session as session_codec


# CRC-32 (IEEE) of every record: binascii.crc32 where the port has it, else a small loop.
def crc32_loop(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


try:
    from binascii import crc32 as _native

    def crc32(data):
        return _native(data) & 0xFFFFFFFF

except ImportError:  # some ports build binascii without crc32
    crc32 = crc32_loop


_NONCE = "<HI"  # next DevNonce, last JoinNonce (0xFFFFFFFF = none yet)
NO_JOIN_NONCE = 0xFFFFFFFF


class Slots:
    """A record in two slots on one store (store.read(name) -> bytes|None, store.write(name, data))."""

    def __init__(self, store, name):
        self.store = store
        self.names = (name + ".a", name + ".b")
        self.seq = 0
        self.slot = 1  # the slot holding the newest record; writes go to the other one

    def read(self):
        best = None
        for slot in (0, 1):
            data = self.store.read(self.names[slot])
            if not data or len(data) < 8:
                continue
            body_end = len(data) - 4
            if struct.unpack_from("<I", data, body_end)[0] != crc32(memoryview(data)[:body_end]):
                continue
            seq = struct.unpack_from("<I", data, 0)[0]
            if best is None or seq > best[0]:
                best = (seq, slot, bytes(data[4:body_end]))
        if best is None:
            return None
        self.seq, self.slot = best[0], best[1]
        return best[2]

    def write(self, body):
        seq = self.seq + 1
        record = bytearray(4 + len(body) + 4)
        struct.pack_into("<I", record, 0, seq)
        record[4 : 4 + len(body)] = body
        struct.pack_into("<I", record, 4 + len(body), crc32(memoryview(record)[: 4 + len(body)]))
        slot = 1 - self.slot
        self.store.write(self.names[slot], bytes(record))
        self.seq, self.slot = seq, slot


class Persistence:
    def __init__(self, region, flash, rtc=None, reserve=16):
        self.region = region
        self.reserve = reserve
        self.nonces = Slots(flash, "nonce")
        self.flash_session = Slots(flash, "session")
        self.rtc_session = Slots(rtc, "session") if rtc is not None else None
        # the duty-cycle ledger and join back-off, before every transmission: to RTC memory where there is
        # some (a battery device: cheap writes; deep sleep keeps it), else to flash
        self.airtime = Slots(rtc if rtc is not None else flash, "airtime")

    def load_airtime(self):
        """(clock stamp at the save, *numbers) as save_airtime() wrote them last, or None."""
        body = self.airtime.read()
        return None if not body or len(body) < 8 else struct.unpack("<Q%dI" % ((len(body) - 8) // 4), body)

    def save_airtime(self, stamp_ms, values):
        self.airtime.write(struct.pack("<Q%dI" % len(values), stamp_ms, *values))

    def load_nonces(self):
        """(next DevNonce, last JoinNonce or None)."""
        body = self.nonces.read()
        if body is None:
            return 0, None
        next_dev_nonce, join_nonce = struct.unpack("<HI", body)
        return next_dev_nonce, None if join_nonce == NO_JOIN_NONCE else join_nonce

    def save_nonces(self, next_dev_nonce, last_join_nonce):
        self.nonces.write(struct.pack(_NONCE, next_dev_nonce, NO_JOIN_NONCE if last_join_nonce is None
                                      else last_join_nonce))

    def load_session(self, next_dev_nonce):
        """The newest session of the latest join, ready to resume, or None (then: join)."""
        flash = self._read(self.flash_session, next_dev_nonce)
        rtc = self._read(self.rtc_session, next_dev_nonce)
        if rtc is not None and (flash is None or rtc.fcnt_up_limit >= flash.fcnt_up_limit):
            return rtc  # written before every uplink: its counter is exact
        if flash is not None:  # anything below the reserved limit may have been sent
            flash.fcnt_up = flash.fcnt_up_limit
        return flash

    def _read(self, slots, next_dev_nonce):
        """The session in slots if it belongs to the latest join (a later join-request voids it)."""
        if slots is None:
            return None
        body = slots.read()
        if body is None:
            return None
        try:
            session = session_codec.decode(self.region, body)
        except ValueError:
            return None
        return session if session.dev_nonce + 1 == next_dev_nonce else None

    def save_session(self, session):
        """Write the session to flash (after a join or a MAC change worth keeping)."""
        self.flash_session.write(session_codec.encode(session))
        if self.rtc_session is not None:
            self.rtc_session.write(session_codec.encode(session))

    def before_uplink(self, session):
        """Call with session.fcnt_up already advanced past the counter about to be sent."""
        if session.fcnt_up > session.fcnt_up_limit:
            session.fcnt_up_limit = session.fcnt_up - 1 + self.reserve
            self.flash_session.write(session_codec.encode(session))
        if self.rtc_session is not None:
            self.rtc_session.write(session_codec.encode(session))
