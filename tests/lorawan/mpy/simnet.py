# Test doubles for the MAC's edges, runnable under MicroPython and CPython: a virtual clock, an
# in-memory store, and an in-memory radio that hands frames to a network built from lorawan.network.
from loraphy.airtime import time_on_air_ms
from lorawan import network
from lorawan.aes import aes_factory
from lorawan.errors import FrameError

AES = aes_factory()
APP_KEY = bytes(range(16))
DEV_EUI = bytes((0x70, 0xB3, 0xD5, 0x7E, 0xD0, 0, 0, 1))
JOIN_EUI = bytes((0x70, 0xB3, 0xD5, 0x7E, 0xD0, 0, 0, 0))
NET_ID = 0x000013
DEV_ADDR = 0x26011234


class Clock:
    def __init__(self):
        self.now = 1000

    def ticks_ms(self):
        return self.now

    def sleep_ms(self, ms):
        assert ms >= 0
        self.now += ms


class MemStore:
    def __init__(self):
        self.files = {}
        self.writes = 0

    def read(self, name):
        return self.files.get(name)

    def write(self, name, data):
        self.writes += 1
        self.files[name] = bytes(data)


class Network:
    """A tiny network server: answers joins, opens uplinks, sends queued downlinks in RX1 or RX2."""

    def __init__(self):
        self.app_key = network.cmac_key(AES, APP_KEY)
        self.join_nonce = 100
        self.used_dev_nonces = []
        self.uplinks = []  # opened Uplink objects
        self.sent_fcnts = {}  # session (its JoinNonce) -> [FCntUp received]
        self.sessions = {}  # dev_addr -> [nwk, app, last_fcnt_up, fcnt_down]
        self.queue = []  # [(fport, payload, fopts, confirmed)]
        self.ack_next = True
        self.answer_joins = True
        self.use_rx2 = False
        self.cflist = None
        self.rx1_dr_offset = 0
        self.rx1_delay_ms = 1000
        self.dl_freq = {}  # uplink Hz -> RX1 Hz after DlChannelReq
        self.rxc_delay_ms = None  # Class C: answer each uplink on RX2 this long after it ends
        self.rxc = []  # [(on air at ms, freq_hz, sf, phy)] for the radio to carry

    def snapshot(self):
        """A copy of the network's state (for the power-cut test's replays)."""
        copy = Network()
        copy.join_nonce = self.join_nonce
        copy.used_dev_nonces = list(self.used_dev_nonces)
        copy.sessions = dict((k, list(v)) for k, v in self.sessions.items())
        copy.queue = list(self.queue)
        copy.uplinks = list(self.uplinks)
        copy.sent_fcnts = dict((k, list(v)) for k, v in self.sent_fcnts.items())
        return copy

    def on_frame(self, phy, freq_hz, sf, bw_khz, tx_end):
        """-> (deliver_at_ms, freq_hz, sf, phy) or None."""
        if phy[0] == 0x00:
            return self._join(phy, freq_hz, sf, tx_end)
        return self._uplink(phy, freq_hz, sf, tx_end)

    def _join(self, phy, freq_hz, sf, tx_end):
        join_eui, dev_eui, dev_nonce = network.accept_join_request(self.app_key, phy)
        assert dev_nonce not in self.used_dev_nonces, "DevNonce reused"
        self.used_dev_nonces.append(dev_nonce)
        if not self.answer_joins:
            return None
        self.join_nonce += 1
        nwk, app = network.session_keys(AES, APP_KEY, self.join_nonce, NET_ID, dev_nonce)
        self.sessions[DEV_ADDR] = [network.cmac_key(AES, nwk), network.cmac_key(AES, app), None, 0, self.join_nonce]
        wire = network.build_join_accept(AES, APP_KEY, self.join_nonce, NET_ID, DEV_ADDR,
                                         rx1_dr_offset=self.rx1_dr_offset, cflist=self.cflist)
        return tx_end + 5000, freq_hz, sf, wire

    def _uplink(self, phy, freq_hz, sf, tx_end):
        state = self.sessions[DEV_ADDR]
        uplink = network.open_uplink(state[0], state[1], phy, state[2])
        assert state[2] is None or uplink.fcnt >= state[2], "FCntUp went backwards"
        state[2] = uplink.fcnt
        self.sent_fcnts.setdefault(state[4], []).append(uplink.fcnt)
        self.uplinks.append(uplink)
        if self.rxc_delay_ms is not None:
            self.rxc.append((tx_end + self.rxc_delay_ms, 869525000, 12, self.downlink_now(7, b"rxc%d" % uplink.fcnt)))
        if not self.queue and not (uplink.confirmed and self.ack_next):
            return None
        fport, payload, fopts, confirmed = self.queue.pop(0) if self.queue else (None, b"", b"", False)
        phy_down = network.build_downlink(state[0], state[1], DEV_ADDR, state[3], fport=fport, payload=payload,
                                          fopts=fopts, ack=uplink.confirmed and self.ack_next, confirmed=confirmed)
        state[3] += 1
        if self.use_rx2:
            return tx_end + self.rx1_delay_ms + 1000, 869525000, 12, phy_down
        return tx_end + self.rx1_delay_ms, self.dl_freq.get(freq_hz, freq_hz), sf, phy_down

    def downlink_now(self, fport, payload, confirmed=False):
        state = self.sessions[DEV_ADDR]
        phy = network.build_downlink(state[0], state[1], DEV_ADDR, state[3], fport=fport, payload=payload,
                                     confirmed=confirmed)
        state[3] += 1
        return phy


class Radio:
    """In-memory radio: transmit advances the clock by the airtime and asks the network for a reply."""

    def __init__(self, clock, net):
        self.clock = clock
        self.net = net
        self.sent = []  # (start_ms, phy, freq_hz, sf, bw_khz, power_dbm)
        self.pending = None
        self.listening = None
        self.class_c_queue = []
        self.class_c_at = []  # [(on air at ms, freq_hz, sf, phy)]: heard only if listening then, on that channel
        self.listen_log = []  # (ms, freq_hz, sf) of each listen()
        self.last_snr_db = 7
        self.sleeps = 0

    def transmit(self, payload, freq_hz, sf, bw_khz, power_dbm):
        start = self.clock.now
        self.clock.now += time_on_air_ms(len(payload), sf, bw_khz)
        self.sent.append((start, bytes(payload), freq_hz, sf, bw_khz, power_dbm))
        self.listening = None
        try:
            self.pending = self.net.on_frame(bytes(payload), freq_hz, sf, bw_khz, self.clock.now)
        except FrameError:
            self.pending = None
        self.class_c_at.extend(self.net.rxc)
        del self.net.rxc[:]
        return self.clock.now

    def receive(self, freq_hz, sf, bw_khz, open_at_ms, window_ms):
        assert open_at_ms >= self.clock.now, "window opened in the past"
        self.clock.now = open_at_ms
        pending = self.pending
        if pending and pending[0] == open_at_ms and pending[1] == freq_hz and pending[2] == sf:
            self.pending = None
            self.clock.now += time_on_air_ms(len(pending[3]), sf, bw_khz)
            return pending[3]
        self.clock.now += window_ms
        return None

    def listen(self, freq_hz, sf, bw_khz):
        self.listening = (freq_hz, sf, bw_khz)
        self.listen_log.append((self.clock.now, freq_hz, sf))

    def poll(self):
        if self.listening and self.class_c_queue:
            return self.class_c_queue.pop(0)
        for entry in self.class_c_at:
            if self.listening and entry[0] <= self.clock.now and entry[1:3] == self.listening[:2]:
                self.class_c_at.remove(entry)
                self.clock.now = max(self.clock.now, entry[0] + time_on_air_ms(len(entry[3]), entry[2], 125))
                return entry[3]
        return None

    def sleep(self):
        self.listening = None
        self.sleeps += 1


def make(device_class="A", store=None, rtc=None, net=None, battery=None, clock=None, multicast=None):
    from lorawan import Device

    clock = clock or Clock()
    net = net or Network()
    radio = Radio(clock, net)
    store = store if store is not None else MemStore()
    device = Device(radio, clock, store, AES, DEV_EUI, JOIN_EUI, APP_KEY, device_class=device_class,
                    battery=battery, rtc_store=rtc, multicast=multicast)
    return device, radio, net, clock, store
