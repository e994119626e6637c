"""lorawan.Device: the app-facing LoRaWAN 1.0.4 end device (Class A and C) over a radio, a clock and a
store passed in. See README.md for the interfaces and the persistence model."""

from loraphy.airtime import time_on_air_ms

from lorawan import frame, machandler
from lorawan import maccommands as mc
from lorawan.cmac import CmacKey
from lorawan.crypto import UPLINK, derive_session_keys
from lorawan.dutycycle import DutyCycleLedger
from lorawan.errors import FrameError, NotJoined, PayloadTooLarge, ReplayError
from lorawan.joinbackoff import JoinBackoff
from lorawan.persist import Persistence
from lorawan.session import NO_FCNT, Session


# ADR acknowledgement back-off (LoRaWAN 1.0.4 §4.3.1.1) as a pure step function.
def adr_backoff(adr_ack_cnt, dr, tx_power, limit, delay, dr_min):
    """Called per uplink with the count of uplinks since the last downlink.

    Returns (adr_ack_req, dr, tx_power, restore_default_channels): ADRACKReq is set from
    ADR_ACK_LIMIT on; every ADR_ACK_DELAY uplinks after that without a downlink, first TX power
    goes to maximum (index 0), then DR steps down, and at the lowest DR the default channels return.
    """
    if adr_ack_cnt < limit:
        return False, dr, tx_power, False
    over = adr_ack_cnt - limit
    if over == 0 or over % delay:
        return True, dr, tx_power, False
    if tx_power != 0:
        return True, dr, 0, False
    if dr > dr_min:
        return True, dr - 1, tx_power, False
    return True, dr, tx_power, True


class SendResult:
    def __init__(self, fcnt_up, acked, downlinks, fpending):
        self.fcnt_up = fcnt_up
        self.acked = acked  # True/False for a confirmed uplink, None for an unconfirmed one
        self.downlinks = downlinks  # [(fport, bytes)]
        self.fpending = fpending  # the network has more to send: send again soon


class Device:
    def __init__(self, radio, clock, store, aes, dev_eui, join_eui, app_key, region=None, device_class="A",
                 battery=None, rtc_store=None, adr=True, random_bits=None, fcnt_reserve=16, multicast=None):
        if region is None:
            from lorawan import region_eu868 as region
        if device_class not in ("A", "C"):
            raise ValueError("device_class is 'A' or 'C'")
        self.radio = radio
        self.clock = clock
        self.region = region
        self.device_class = device_class
        self.dev_eui = bytes(dev_eui)
        self.join_eui = bytes(join_eui)
        self.adr = adr
        self._aes = aes
        self._app_key_bytes = bytes(app_key)
        self._app_key = CmacKey(aes, app_key)
        self._bits = random_bits or __import__("random").getrandbits
        self.ledger = DutyCycleLedger(region.SUB_BANDS)
        self.join_backoff = JoinBackoff()
        self.mac = machandler.MacContext(region, self.ledger, battery or (lambda: 255))
        self._persist = Persistence(region, store, rtc_store, fcnt_reserve)
        self._pending = []  # MAC answers and requests for the next uplink: [(cid, payload)]
        self._ack_pending = False
        self._fpending = False
        self._time_anchor_gps = None
        self._join_attempts = 0
        self._time_anchor_ms = 0
        self.rejected_downlinks = 0
        self.multicast = multicast  # Class C group session: offer(phy) -> True when the frame was for it
        self.session = None
        self.joined = False
        self._next_dev_nonce, self._last_join_nonce = self._persist.load_nonces()
        saved = self._persist.load_airtime()  # a reboot must not reopen a sub-band or the join budget early
        bands = len(region.SUB_BANDS) + 2
        if saved and len(saved) == bands + 2:
            # the time off as the stamp's clock saw it: what it cannot show (a restart) counts as zero
            base = clock.ticks_ms() - max(self._stamp() - saved[0], 0)
            self.ledger.resume(saved[1:], base)
            self.join_backoff.resume(saved[bands:], base)
        restored = self._persist.load_session(self._next_dev_nonce)
        if restored is not None:
            self._activate(restored)

    # --- join --------------------------------------------------------------------------------------
    def join(self, attempts=1):
        """OTAA join; True once a join-accept was accepted. The DevNonce is persisted before each request."""
        self.joined = False
        self.session = None
        region = self.region
        for _ in range(attempts):
            dev_nonce = self._next_dev_nonce
            if dev_nonce > 0xFFFF:
                raise ValueError("DevNonce space used up for this JoinEUI")
            self._persist.save_nonces(dev_nonce + 1, self._last_join_nonce)
            self._next_dev_nonce = dev_nonce + 1
            phy = frame.build_join_request(self._app_key, self.join_eui, self.dev_eui, dev_nonce)
            dr = region.JOIN_DRS[self._join_attempts % len(region.JOIN_DRS)]
            self._join_attempts += 1
            freq_hz = region.DEFAULT_CHANNELS[self._bits(8) % len(region.DEFAULT_CHANNELS)][0]
            sf, bw_khz = region.DATA_RATES[dr]
            airtime_ms = time_on_air_ms(len(phy), sf, bw_khz)
            now = self.clock.ticks_ms()
            wait = max(self.ledger.wait_ms(freq_hz, now), self.join_backoff.wait_ms(now, airtime_ms))
            if wait:
                self.clock.sleep_ms(wait)
            self.join_backoff.record(self.clock.ticks_ms(), airtime_ms)
            tx_end = self._transmit(phy, freq_hz, dr, region.TX_POWER_DBM[0], airtime_ms)
            accept = self._receive_join_accept(tx_end, freq_hz, dr)
            if accept is not None:
                self._start_session(accept, dev_nonce, dr)
                return True
        self.radio.sleep()
        return False

    def _receive_join_accept(self, tx_end, freq_hz, dr):
        region = self.region
        windows = ((region.JOIN_ACCEPT_DELAY1_MS, freq_hz, dr), (region.JOIN_ACCEPT_DELAY2_MS, region.RX2_FREQ_HZ,
                                                                 region.RX2_DR))
        for delay_ms, rx_freq_hz, rx_dr in windows:
            data = self._receive(rx_freq_hz, rx_dr, tx_end + delay_ms)
            if not data:
                continue
            try:
                accept = frame.parse_join_accept(self._app_key, data)
            except FrameError:
                self.rejected_downlinks += 1
                continue
            if self._last_join_nonce is not None and accept.join_nonce <= self._last_join_nonce:
                self.rejected_downlinks += 1  # a replayed join-accept
                continue
            return accept
        return None

    def _start_session(self, accept, dev_nonce, dr):
        nwk_s_key, app_s_key = derive_session_keys(self._aes, self._app_key_bytes, accept.join_nonce,
                                                   accept.net_id, dev_nonce)
        session = Session(self.region, accept.dev_addr, nwk_s_key, app_s_key, dev_nonce)
        session.dr = min(dr, self.region.UPLINK_DR_MAX)
        session.rx1_dr_offset = accept.rx1_dr_offset
        session.rx2_dr = accept.rx2_dr
        session.rx1_delay_ms = accept.rx_delay_s * 1000
        cflist = accept.cflist
        if cflist is not None and cflist[15] == 0:  # type 0: five extra frequencies
            first = len(self.region.DEFAULT_CHANNELS)
            for i in range(5):
                freq_hz = mc.freq_from(cflist, 3 * i)
                if freq_hz:
                    session.channels[first + i] = [freq_hz, self.region.UPLINK_DR_MIN, self.region.UPLINK_DR_MAX, 0]
                    session.ch_mask |= 1 << (first + i)
        self._last_join_nonce = accept.join_nonce
        self._persist.save_nonces(self._next_dev_nonce, accept.join_nonce)
        self._persist.save_session(session)
        self._pending = []
        self._activate(session)

    def _activate(self, session):
        self.session = session
        self._nwk_key = CmacKey(self._aes, session.nwk_s_key)
        self._app_s_key = CmacKey(self._aes, session.app_s_key)
        self.ledger.set_max_duty_cycle(session.max_dcycle)
        self.joined = True
        self._listen()

    # --- uplink ------------------------------------------------------------------------------------
    def max_payload(self):
        """Largest application payload at the current data rate (bytes)."""
        return self.region.MAX_PAYLOAD[self.session.dr] if self.session else 0

    def request_link_check(self):
        self._pending.append((mc.LINK_CHECK, b""))

    def request_device_time(self):
        self._pending.append((mc.DEVICE_TIME, b""))

    def time_until_send_ms(self):
        """Milliseconds until some enabled channel may transmit (0 = now)."""
        now = self.clock.ticks_ms()
        waits = [self.ledger.wait_ms(self.session.channels[i][0], now) for i in self.session.enabled_channels()]
        waits = [w for w in waits if w is not None]
        return min(waits) if waits else 0

    def send(self, fport, payload, confirmed=False):
        """Send one uplink (NbTrans transmissions of the same frame); returns a SendResult."""
        session = self.session
        if session is None:
            raise NotJoined("join() first")
        if not 1 <= fport <= 223:
            raise ValueError("application FPort is 1..223")
        region = self.region
        dr, tx_power, ack_req, restore = session.dr, session.tx_power, False, False
        if self.adr:  # the back-off may lower the DR: check the payload against the DR actually used
            ack_req, dr, tx_power, restore = adr_backoff(session.adr_ack_cnt, dr, tx_power, region.ADR_ACK_LIMIT,
                                                         region.ADR_ACK_DELAY, region.UPLINK_DR_MIN)
        limit = region.MAX_PAYLOAD[dr]
        if len(payload) > limit:
            raise PayloadTooLarge("payload of %d bytes exceeds %d at DR%d" % (len(payload), limit, dr))
        # nothing was changed up to here: a refused payload costs no counter and no state
        fctrl = (frame.FCTRL_ACK if self._ack_pending else 0) | (frame.FCTRL_ADR if self.adr else 0) | (
            frame.FCTRL_ADR_ACK_REQ if ack_req else 0)
        self._ack_pending = False
        if self.adr:
            session.adr_ack_cnt += 1
        session.dr, session.tx_power = dr, tx_power
        if restore:
            session.ch_mask |= (1 << len(region.DEFAULT_CHANNELS)) - 1
        fopts = self._take_fopts(min(frame.FOPTS_MAX, limit - len(payload)))
        fcnt = session.fcnt_up
        if fcnt > 0xFFFFFFFF:
            raise ValueError("FCntUp exhausted: rejoin")
        session.fcnt_up = fcnt + 1
        self._persist.before_uplink(session)  # reserve the counter before it goes on air
        phy = frame.build_data(self._nwk_key, self._app_s_key, UPLINK,
                               frame.CONFIRMED_UP if confirmed else frame.UNCONFIRMED_UP,
                               session.dev_addr, fctrl, fcnt, fopts, fport, payload)
        downlinks = []
        acked = False
        self._fpending = False
        for attempt in range(session.nb_trans):
            if attempt and confirmed:
                low, high = self.region.RETRANSMIT_TIMEOUT_MS
                self.clock.sleep_ms(low + self._bits(16) % (high - low))
            received, ack = self._transmit_and_receive(phy, session.dr, downlinks)
            acked = acked or ack
            if (received and not confirmed) or acked:
                break
        self._listen()
        return SendResult(fcnt, acked if confirmed else None, downlinks, self._fpending)

    def _take_fopts(self, room):
        commands = mc.split(self.session.sticky, mc.UP_LENGTH) + self._pending
        fopts = bytearray()
        left = []
        for cid, payload in commands:
            if len(fopts) + 1 + len(payload) <= room:
                fopts.append(cid)
                fopts.extend(payload)
            elif cid not in mc.STICKY:
                left.append((cid, payload))
        self._pending = left
        return bytes(fopts)

    def _transmit_and_receive(self, phy, dr, downlinks):
        session = self.session
        candidates = [i for i in session.enabled_channels()
                      if session.channels[i][1] <= dr <= session.channels[i][2]]
        if not candidates:
            raise ValueError("no enabled channel allows DR%d" % dr)
        now = self.clock.ticks_ms()
        waits = [self.ledger.wait_ms(session.channels[i][0], now) for i in candidates]
        ready = [candidates[i] for i in range(len(candidates)) if waits[i] == 0]
        if ready:
            index = ready[self._bits(8) % len(ready)]
        else:
            index = candidates[waits.index(min(waits))]
            self.clock.sleep_ms(min(waits))
        channel = session.channels[index]
        sf, bw_khz = self.region.DATA_RATES[dr]
        tx_end = self._transmit(phy, channel[0], dr, self.region.TX_POWER_DBM[session.tx_power],
                                time_on_air_ms(len(phy), sf, bw_khz))
        self._time_anchor_ms = tx_end
        acked = None
        if self.device_class == "C":  # 1.0.4 §6: RX2 right after TX, closed (a little early) for RX1
            self._listen()
            acked = self._poll_until(tx_end + session.rx1_delay_ms - 10, downlinks)
        windows = ((session.rx1_delay_ms, channel[3] or channel[0], self.region.rx1_dr(dr, session.rx1_dr_offset)),
                   (session.rx1_delay_ms + 1000, session.rx2_freq_hz, session.rx2_dr))
        for delay_ms, freq_hz, rx_dr in windows:
            if tx_end + delay_ms < self.clock.ticks_ms():
                continue  # still receiving an RX2 frame when this window opened
            data = self._receive(freq_hz, rx_dr, tx_end + delay_ms)
            if data:
                result = self._accept_downlink(data, True, downlinks)
                if result is not None:
                    return True, result or bool(acked)
        return acked is not None, bool(acked)

    # --- radio edges -------------------------------------------------------------------------------
    def _transmit(self, phy, freq_hz, dr, power_dbm, airtime_ms):
        sf, bw_khz = self.region.DATA_RATES[dr]
        now = self.clock.ticks_ms()  # booked and persisted before going on air: a power cut cannot unbook it
        self.ledger.record(freq_hz, now, airtime_ms)
        self._persist.save_airtime(self._stamp(), self.ledger.remaining(now) + self.join_backoff.state(now))
        tx_end = self.radio.transmit(phy, freq_hz, sf, bw_khz, power_dbm)
        self.ledger.record(freq_hz, tx_end - airtime_ms, airtime_ms)
        return tx_end

    def _stamp(self):
        # clock.epoch_ms() (optional) keeps counting through a reset where the board's RTC does (ESP32
        # deep sleep); ticks_ms() restarts with the program
        epoch_ms = getattr(self.clock, "epoch_ms", None)
        return epoch_ms() if epoch_ms else self.clock.ticks_ms()

    def _receive(self, freq_hz, dr, open_at_ms):
        sf, bw_khz = self.region.DATA_RATES[dr]
        # long enough to catch a preamble (8 symbols) plus 20 ms of timing slack
        window_ms = 8 * (1 << sf) // bw_khz + 20
        return self.radio.receive(freq_hz, sf, bw_khz, open_at_ms, window_ms)

    def _listen(self):
        if self.device_class == "C" and self.session is not None:
            sf, bw_khz = self.region.DATA_RATES[self.session.rx2_dr]
            self.radio.listen(self.session.rx2_freq_hz, sf, bw_khz)
        else:
            self.radio.sleep()

    # --- downlink ----------------------------------------------------------------------------------
    def _accept_downlink(self, phy, class_a, downlinks):
        """Verify and apply one downlink; returns its ACK bit, or None if it was rejected."""
        if not class_a and self.multicast is not None and self.multicast.offer(phy):
            return None  # a Class C group frame: the multicast session took it (and never acks it)
        session = self.session
        try:
            parsed = frame.DataFrame(phy)
            if parsed.uplink or parsed.dev_addr != session.dev_addr:
                return None
            last = None if session.fcnt_down == NO_FCNT else session.fcnt_down
            fcnt = frame.recover_fcnt(last, parsed.fcnt16)
            if last is not None and fcnt <= last:
                raise ReplayError("replayed downlink")
            payload = frame.open_data(parsed, phy, self._nwk_key, self._app_s_key, fcnt)
        except FrameError:
            self.rejected_downlinks += 1
            return None
        session.fcnt_down = fcnt
        session.adr_ack_cnt = 0
        self._ack_pending = parsed.confirmed
        self._fpending = bool(parsed.fctrl & frame.FCTRL_FPENDING)
        if class_a:  # Class C downlinks carry no MAC commands (1.0.4)
            session.sticky = b""
            self.mac.snr_db = getattr(self.radio, "last_snr_db", 0)
            self.mac.changed = False
            commands = parsed.fopts(phy) if parsed.fport != 0 else payload
            answers = machandler.handle(self.mac, session, commands)
            for cid, answer in answers:
                if cid in mc.STICKY:
                    session.sticky += bytes((cid,)) + answer
                else:
                    self._pending.append((cid, answer))
            if self.mac.device_time_gps_ms is not None:  # the answer's time is at the end of our uplink
                self._time_anchor_gps = (self.mac.device_time_gps_ms, self._time_anchor_ms)
                self.mac.device_time_gps_ms = None
            if self.mac.changed:
                self._persist.save_session(session)
        if parsed.fport:
            downlinks.append((parsed.fport, bytes(payload)))
        return bool(parsed.fctrl & frame.FCTRL_ACK)

    # --- Class C and time --------------------------------------------------------------------------
    def poll(self, timeout_ms):
        """Class C: collect downlinks arriving within timeout_ms; [(fport, bytes)]."""
        downlinks = []
        if self.session is not None:
            self._poll_until(self.clock.ticks_ms() + timeout_ms, downlinks)
        return downlinks

    def _poll_until(self, deadline, downlinks):
        """Take Class C frames until deadline; the ACK bit of an accepted one, None if none was."""
        acked = None
        while True:
            data = self.radio.poll()
            if data:
                ack = self._accept_downlink(data, False, downlinks)
                if ack is not None:
                    acked = acked or ack
                continue
            left = deadline - self.clock.ticks_ms()
            if left <= 0:
                return acked
            self.clock.sleep_ms(min(left, 50))

    def network_time(self):
        """GPS epoch seconds from the last DeviceTimeAns, advanced by the local clock; None before one."""
        anchor = self._time_anchor_gps
        if anchor is None:
            return None
        gps_ms, at_ms = anchor
        return (gps_ms + self.clock.ticks_ms() - at_ms) // 1000

    @property
    def link_check(self):
        """(margin dB, gateway count) from the last LinkCheckAns, or None."""
        return self.mac.link_check
