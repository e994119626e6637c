"""A Class C multicast session (LoRaWAN 1.0.4 multicast rules; keys and counter window as TS005 sets them up).

One group: McAddr, McNwkSKey, McAppSKey and the lowest frame counter to accept. The session is given to
`lorawan.Device(multicast=...)`, which offers it every Class C frame before its own unicast check (it
lives here, outside `lorawan`, so the MAC's own size budget stays for the MAC; it uses the MAC's frame
and crypto code and nothing else). A frame for
McAddr is consumed here whatever happens to it: accepted only as unconfirmed data down with no FOpts, no
ACK bit and an application FPort (1..223), a MIC under McNwkSKey at a counter above the last one accepted;
then decrypted with McAppSKey. Never acknowledged, never MAC commands: a group frame is as strong as the
weakest member's copy of the keys. The next acceptable counter is written to the store (two CRC'd slots)
BEFORE the payload is handed on, so a power cut cannot make a group command acceptable twice.
"""

import struct

from lorawan import frame
from lorawan.cmac import CmacKey
from lorawan.errors import FrameError, ReplayError
from lorawan.persist import Slots

_RECORD = "<IQ"  # McAddr, next acceptable FCnt (up to 2^32: the counter space used up)
INBOX_MAX = 4  # frames waiting for the app; a flood cannot grow the heap


class MulticastSession:
    def __init__(self, aes, mc_addr, mc_nwk_s_key, mc_app_s_key, store, f_cnt_min=0):
        self.mc_addr = mc_addr
        self._nwk_key = CmacKey(aes, mc_nwk_s_key)
        self._app_key = CmacKey(aes, mc_app_s_key)
        self._record = Slots(store, "mcast")
        self.next_fcnt = f_cnt_min
        body = self._record.read()
        if body is not None and len(body) == struct.calcsize(_RECORD):
            addr, next_fcnt = struct.unpack(_RECORD, body)
            if addr == mc_addr and next_fcnt > f_cnt_min:  # the same group: never go back below what we took
                self.next_fcnt = next_fcnt
        self.inbox = []  # [(fport, bytes)]
        self.rejected = 0

    def offer(self, phy):
        """True when phy is addressed to this group (then it is consumed: queued, or dropped and counted)."""
        if len(phy) < 12 or frame.get_le(phy, 1, 4) != self.mc_addr:
            return False
        try:
            parsed = frame.DataFrame(phy)
            # unconfirmed data down only; no ACK bit, no FOpts; an application FPort (so no FPort 0)
            if parsed.mtype != frame.UNCONFIRMED_DOWN or parsed.fctrl & (frame.FCTRL_ACK | 0x0F) \
                    or not 1 <= (parsed.fport or 0) <= 223:
                raise FrameError("not a group frame")
            fcnt = frame.recover_fcnt(self.next_fcnt, parsed.fcnt16)
            if fcnt < self.next_fcnt or self.next_fcnt > 0xFFFFFFFF:
                raise ReplayError("replayed")
            payload = frame.open_data(parsed, phy, self._nwk_key, self._app_key, fcnt)
        except FrameError:
            self.rejected += 1
            return True
        self.next_fcnt = fcnt + 1
        try:
            self._record.write(struct.pack(_RECORD, self.mc_addr, self.next_fcnt))
        except OSError:  # flash full or failing: the counter would not survive a reboot, so drop the frame
            self.rejected += 1
            return True
        if len(self.inbox) >= INBOX_MAX:
            self.inbox.pop(0)
        self.inbox.append((parsed.fport, bytes(payload)))
        return True

    def take(self):
        """The group frames accepted since the last call: [(fport, bytes)]."""
        frames = self.inbox
        self.inbox = []
        return frames


def from_config(section, aes, store):
    """The session a validated config's multicast section describes (config.check_multicast), or None."""
    if section is None:
        return None
    return MulticastSession(aes, section["mc_addr"], bytes.fromhex(section["mc_nwk_s_key"]),
                            bytes.fromhex(section["mc_app_s_key"]), store, section["f_cnt_min"])
