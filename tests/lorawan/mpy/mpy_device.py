# lorawan.Device end to end against lorawan.network through an in-memory radio (MicroPython + CPython).
import mpytest
import simnet
from loraphy.airtime import time_on_air_ms
from lorawan import maccommands as mc
from lorawan.errors import NotJoined, PayloadTooLarge


def joined(**kwargs):
    device, radio, net, clock, store = simnet.make(**kwargs)
    assert device.join(attempts=1)
    return device, radio, net, clock, store


def test_join_uplink_downlink_round_trip():
    device, radio, net, clock, store = simnet.make()
    assert not device.joined
    mpytest.raises(NotJoined, device.send, 2, b"x")
    assert device.join()
    assert device.joined and net.used_dev_nonces == [0]
    assert device.session.dev_addr == simnet.DEV_ADDR
    result = device.send(2, b"hello")
    assert result.fcnt_up == 0 and result.acked is None and result.downlinks == []
    assert net.uplinks[-1].payload == b"hello" and net.uplinks[-1].fport == 2
    net.queue.append((5, b"hi there", b"", False))
    result = device.send(2, b"again")
    assert result.fcnt_up == 1 and result.downlinks == [(5, b"hi there")]
    assert net.uplinks[-1].fcnt == 1


def test_downlink_in_rx2():
    device, radio, net, clock, store = joined()
    net.use_rx2 = True
    net.queue.append((7, b"late", b"", False))
    assert device.send(2, b"a").downlinks == [(7, b"late")]


def test_confirmed_uplink_acked_and_not_acked():
    device, radio, net, clock, store = joined()
    assert device.send(3, b"c", confirmed=True).acked is True
    assert net.uplinks[-1].confirmed
    net.ack_next = False
    device.session.nb_trans = 3
    before = len(radio.sent)
    result = device.send(3, b"c", confirmed=True)
    assert result.acked is False and len(radio.sent) - before == 3
    fcnts = [u.fcnt for u in net.uplinks[-3:]]
    assert fcnts[0] == fcnts[1] == fcnts[2] == result.fcnt_up  # retransmissions reuse the counter


def test_confirmed_downlink_is_acked_in_next_uplink():
    device, radio, net, clock, store = joined()
    net.queue.append((4, b"cmd", b"", True))
    device.send(2, b"a")
    device.send(2, b"b")
    assert net.uplinks[-1].ack and not net.uplinks[-2].ack


def test_oversize_payload_fails_before_anything_is_sent():
    device, radio, net, clock, store = joined()
    device.session.dr = 0
    sent = len(radio.sent)
    fcnt = device.session.fcnt_up
    error = mpytest.raises(PayloadTooLarge, device.send, 2, bytes(52))
    assert "52" in str(error) and "51" in str(error)
    assert len(radio.sent) == sent and device.session.fcnt_up == fcnt
    device.send(2, bytes(51))
    assert len(net.uplinks[-1].payload) == 51
    device.session.dr = 5
    device.send(2, bytes(242))
    mpytest.raises(PayloadTooLarge, device.send, 2, bytes(243))
    mpytest.raises(ValueError, device.send, 0, b"x")


def test_oversize_after_adr_backoff_lowers_the_data_rate():
    device, radio, net, clock, store = joined()
    device.session.dr = 3
    device.session.tx_power = 0
    device.session.adr_ack_cnt = 64 + 32  # this uplink steps the DR down to DR2 (51 bytes)
    sent = len(radio.sent)
    mpytest.raises(PayloadTooLarge, device.send, 2, bytes(100))
    assert len(radio.sent) == sent and device.session.dr == 3 and device.session.adr_ack_cnt == 96
    device.send(2, bytes(51))
    assert device.session.dr == 2 and radio.sent[-1][3] == 10


def test_replayed_and_forged_downlinks_are_rejected():
    device, radio, net, clock, store = joined(device_class="C")
    phy = net.downlink_now(9, b"one")
    radio.class_c_queue.append(phy)
    assert device.poll(100) == [(9, b"one")]
    radio.class_c_queue.append(phy)  # the same frame again
    forged = bytearray(net.downlink_now(9, b"two"))
    forged[-6] ^= 0x01
    radio.class_c_queue.append(bytes(forged))
    assert device.poll(100) == []
    assert device.rejected_downlinks == 2


def test_fcnt_down_rollover_past_16_bits():
    device, radio, net, clock, store = joined(device_class="C")
    state = net.sessions[simnet.DEV_ADDR]
    got = []
    for fcnt in (0xFFFE, 0xFFFF, 0x10000, 0x10003):
        state[3] = fcnt
        radio.class_c_queue.append(net.downlink_now(1, b"%d" % fcnt))
        got.extend(device.poll(10))
    assert [p for _, p in got] == [b"65534", b"65535", b"65536", b"65539"]
    assert device.session.fcnt_down == 0x10003


def test_class_c_listens_on_rx2_after_uplink():
    device, radio, net, clock, store = joined(device_class="C")
    device.send(2, b"x")
    assert radio.listening == (869525000, 12, 125)
    class_a, radio_a, net_a, clock_a, store_a = joined()
    class_a.send(2, b"x")
    assert radio_a.listening is None and radio_a.sleeps > 0


def test_class_c_listens_on_rx2_between_uplink_and_rx1():
    device, radio, net, clock, store = joined(device_class="C")
    net.rxc_delay_ms = 300  # the network answers on RX2 300 ms after the uplink ended
    result = device.send(2, b"x")
    tx_end = radio.sent[-1][0] + time_on_air_ms(len(radio.sent[-1][1]), radio.sent[-1][3], 125)
    assert (tx_end, 869525000, 12) in radio.listen_log, (tx_end, radio.listen_log)
    assert result.downlinks == [(7, b"rxc%d" % result.fcnt_up)], result.downlinks
    assert radio.listening == (869525000, 12, 125)  # and continuously again after the windows
    net.rxc_delay_ms = None
    net.queue.append((5, b"rx1", b"", False))
    assert device.send(2, b"y").downlinks == [(5, b"rx1")]  # RX1 still opens after the RX2 listening
    class_a, radio_a, net_a, clock_a, store_a = joined()
    net_a.rxc_delay_ms = 300
    assert class_a.send(2, b"x").downlinks == [] and radio_a.listen_log == []  # Class A does not listen


def test_class_c_frame_on_rx2_overlapping_rx1_skips_rx1():
    device, radio, net, clock, store = joined(device_class="C")
    device.session.dr = 5
    net.rxc_delay_ms = 900  # an SF12 frame from 900 ms lasts past RX1 (1000 ms) and RX2 (2000 ms)
    result = device.send(2, b"x")
    assert result.downlinks == [(7, b"rxc%d" % result.fcnt_up)]


def _fopts_exchange(device, net, fopts, payload=b"u"):
    net.queue.append((None, b"", fopts, False))
    device.send(2, payload)
    device.send(2, payload)
    return mc.split(net.uplinks[-1].fopts, mc.UP_LENGTH)


def test_link_check_and_device_time():
    device, radio, net, clock, store = joined()
    device.request_link_check()
    device.request_device_time()
    device.send(2, b"q")
    assert mc.split(net.uplinks[-1].fopts, mc.UP_LENGTH) == [(mc.LINK_CHECK, b""), (mc.DEVICE_TIME, b"")]
    tx_end = clock.now
    gps_ms = 1400000000 * 1000 + 500
    net.queue.append((None, b"", bytes((mc.LINK_CHECK, 20, 3)), False))
    # DeviceTimeAns refers to the end of the uplink that carried the request
    net.queue[-1] = (None, b"", bytes((mc.LINK_CHECK, 20, 3)) + mc.device_time_ans(gps_ms + 0), False)
    device.send(2, b"r")
    assert device.link_check == (20, 3)
    uplink_end = radio.sent[-1][0] + 0
    assert device.network_time() is not None
    expected = (gps_ms + clock.now - device._time_anchor_gps[1]) // 1000
    assert device.network_time() == expected and expected >= 1400000000
    assert tx_end > 0 and uplink_end > 0


def test_dev_status_reports_battery_from_callback():
    device, radio, net, clock, store = joined(battery=lambda: 187)
    answers = _fopts_exchange(device, net, bytes((mc.DEV_STATUS,)))
    assert answers == [(mc.DEV_STATUS, bytes((187, 7)))]


def test_link_adr_sets_dr_power_mask_and_nb_trans():
    device, radio, net, clock, store = joined()
    answers = _fopts_exchange(device, net, mc.link_adr_req(3, 2, 0b011, 0, 2))
    assert answers == [(mc.LINK_ADR, b"\x07")]
    s = device.session
    assert (s.dr, s.tx_power, s.ch_mask, s.nb_trans) == (3, 2, 0b011, 2)
    sent = radio.sent[-1]
    assert sent[3] == 9 and sent[5] == 12 and sent[2] in (868100000, 868300000)
    # an unconfirmed uplink without a downlink now goes out NbTrans = 2 times
    before = len(radio.sent)
    device.send(2, b"n")
    assert len(radio.sent) - before == 2
    # a mask enabling an undefined channel is refused as a whole
    answers = _fopts_exchange(device, net, mc.link_adr_req(5, 0, 0b1000_0000, 0, 1))
    assert answers[0][0] == mc.LINK_ADR and not answers[0][1][0] & 1
    assert device.session.dr == 3 and device.session.ch_mask == 0b011


def test_link_adr_block_answers_each_request():
    device, radio, net, clock, store = joined()
    block = mc.link_adr_req(2, 1, 0b111, 0, 1) + mc.link_adr_req(4, 1, 0b101, 0, 1)
    answers = _fopts_exchange(device, net, block)
    assert answers == [(mc.LINK_ADR, b"\x07"), (mc.LINK_ADR, b"\x07")]
    assert device.session.dr == 4 and device.session.ch_mask == 0b101


def test_new_channel_dl_channel_rx_timing_and_sticky_answers():
    device, radio, net, clock, store = joined()
    cmds = mc.new_channel_req(3, 867100000, 0, 5) + mc.dl_channel_req(3, 869100000) + bytes((mc.RX_TIMING_SETUP, 2))
    answers = _fopts_exchange(device, net, cmds)
    assert (mc.NEW_CHANNEL, b"\x03") in answers and (mc.DL_CHANNEL, b"\x03") in answers
    assert (mc.RX_TIMING_SETUP, b"") in answers
    assert device.session.channels[3] == [867100000, 0, 5, 869100000]
    assert device.session.rx1_delay_ms == 2000
    # sticky answers repeat in every uplink until a downlink arrives
    device.send(2, b"s")
    assert (mc.DL_CHANNEL, b"\x03") in mc.split(net.uplinks[-1].fopts, mc.UP_LENGTH)
    net.dl_freq[867100000] = 869100000  # the network answers channel 3 on its DlChannel
    net.rx1_delay_ms = 2000
    net.queue.append((1, b"ok", b"", False))
    assert device.send(2, b"t").downlinks == [(1, b"ok")]
    device.send(2, b"v")
    assert net.uplinks[-1].fopts == b""
    # fixed default channels cannot be changed
    answers = _fopts_exchange(device, net, mc.new_channel_req(1, 867300000, 0, 5))
    assert (mc.NEW_CHANNEL, b"\x00") in answers


def test_rx_param_setup_and_duty_cycle():
    device, radio, net, clock, store = joined()
    answers = _fopts_exchange(device, net, mc.rx_param_setup_req(7, 3, 900000000))
    assert (mc.RX_PARAM_SETUP, b"\x02") in answers and device.session.rx1_dr_offset == 0
    answers = _fopts_exchange(device, net, mc.rx_param_setup_req(1, 3, 869525000) + bytes((mc.DUTY_CYCLE, 7)))
    assert (mc.RX_PARAM_SETUP, b"\x07") in answers and (mc.DUTY_CYCLE, b"") in answers
    s = device.session
    assert (s.rx1_dr_offset, s.rx2_dr, s.rx2_freq_hz, s.max_dcycle) == (1, 3, 869525000, 7)
    # aggregated duty cycle 1/128: the next uplink waits 127 x its airtime
    start = radio.sent[-1][0]
    device.send(2, b"w")
    assert radio.sent[-1][0] - start >= 128 * 40  # 40 ms: less than any frame's airtime


def test_cflist_channels_and_rx_windows_on_dl_channel():
    net = simnet.Network()
    from lorawan.network import build_cflist
    net.cflist = build_cflist([867100000, 867300000, 867500000, 867700000, 867900000])
    device, radio, net, clock, store = joined(net=net)
    assert device.session.ch_mask == 0xFF and device.session.channels[7][0] == 867900000
    freqs = []
    for i in range(30):
        clock.now += 10 ** 6
        device.send(2, b"%d" % i)
        freqs.append(radio.sent[-1][2])
    assert any(f < 868000000 for f in freqs) and any(f > 868000000 for f in freqs)


def test_adr_ack_req_after_limit_and_backoff():
    device, radio, net, clock, store = joined()
    device.session.tx_power = 3
    for _ in range(64 + 32 + 1):
        clock.now += 10 ** 6
        device.send(2, b"a")
    flags = [u.adr_ack_req for u in net.uplinks]
    assert not any(flags[:64]) and all(flags[64:])
    assert device.session.tx_power == 0  # first back-off step: maximum power
    net.queue.append((1, b"x", b"", False))
    device.send(2, b"a")
    device.send(2, b"a")
    assert not net.uplinks[-1].adr_ack_req


def test_back_to_back_uplinks_keep_each_sub_band_under_one_percent():
    device, radio, net, clock, store = joined()
    device.adr = False
    device.session.dr = 0  # SF12: 1.5 s per frame, so the 1 % limit binds quickly
    first = len(radio.sent)
    for _ in range(60):
        device.send(2, bytes(10))
    frames = radio.sent[first:]
    from loraphy.airtime import time_on_air_ms
    # RP002's off-time rule: after a frame of airtime T the band stays closed for T x (1/1% - 1)
    airtimes = [time_on_air_ms(len(f[1]), f[3], f[4]) for f in frames]
    for i in range(1, len(frames)):
        assert frames[i][0] - frames[i - 1][0] >= 100 * airtimes[i - 1], (frames[i - 1][0], frames[i][0])
    span = frames[-1][0] + airtimes[-1] - frames[0][0]
    assert sum(airtimes) * 100 <= span + 100 * airtimes[-1]  # 1 % over the run (the last frame's off-time pending)
    assert device.time_until_send_ms() > 0


def test_join_retries_respect_backoff_and_never_reuse_dev_nonce():
    device, radio, net, clock, store = simnet.make()
    net.answer_joins = False
    assert not device.join(attempts=40)
    starts = [s[0] for s in radio.sent]
    from loraphy.airtime import time_on_air_ms
    hour_airtime = sum(time_on_air_ms(23, s[3], s[4]) for s in radio.sent if s[0] - starts[0] < 3600000)
    assert hour_airtime <= 36000
    assert len(set(net.used_dev_nonces)) == 40
    net.answer_joins = True
    assert device.join(attempts=1) and device.joined


def test_restore_after_reboot_resumes_without_reusing_counters():
    device, radio, net, clock, store = joined()
    for _ in range(5):
        clock.now += 10 ** 6
        device.send(2, b"a")
    reborn = simnet.make(store=store, net=net, clock=clock)[0]
    assert reborn.joined and reborn.session.dev_addr == simnet.DEV_ADDR
    assert reborn.session.fcnt_up >= 5
    clock.now += 10 ** 6
    reborn.radio.net = net
    reborn.send(2, b"after")
    assert net.uplinks[-1].payload == b"after"
    # rejoin after reboot uses the next DevNonce
    assert reborn.join() and net.used_dev_nonces == [0, 1]


def test_reboot_keeps_the_duty_cycle_ledger():
    device, radio, net, clock, store = joined()
    device.adr = False
    device.session.dr = 0
    device.send(2, bytes(10))
    last = radio.sent[-1]
    off_ms = 100 * time_on_air_ms(len(last[1]), last[3], last[4])
    clock.now += 1000
    reborn, radio2 = simnet.make(store=store, net=net, clock=clock)[:2]
    assert reborn.time_until_send_ms() == last[0] + off_ms - clock.now > 0  # a clock that went on: exact
    reborn.adr = False
    reborn.send(2, b"after")
    assert radio2.sent[-1][0] >= last[0] + off_ms
    assert "airtime.a" in store.files  # no RTC store: the ledger went to flash
    restarted = simnet.Clock()  # a clock that restarted at the reboot cannot show the time off: zero
    reborn = simnet.make(store=store, net=net, clock=restarted)[0]
    last = radio2.sent[-1]
    assert reborn.time_until_send_ms() == 100 * time_on_air_ms(len(last[1]), last[3], last[4])


class RtcClock(simnet.Clock):
    """ticks_ms restarts with each boot; epoch_ms is a real-time clock that runs on (ESP32 deep sleep)."""

    def __init__(self, epoch_ms):
        simnet.Clock.__init__(self)
        self.epoch_at_start = epoch_ms

    def epoch_ms(self):
        return self.epoch_at_start + self.now - 1000  # simnet.Clock starts at 1000


def test_deep_sleep_wake_sees_the_time_asleep_through_the_rtc():
    clock = RtcClock(10 ** 12)
    device, radio, net = simnet.make(clock=clock)[:3]
    assert device.join()
    device.adr = False
    device.session.dr = 0
    device.send(2, bytes(10))
    left_ms = device.time_until_send_ms()
    assert left_ms > 100000
    store = device._persist.flash_session.store
    for asleep_ms, expected_ms in ((3600000, 0), (20000, left_ms - 20000)):  # a timer wake, an early pin wake
        woken = RtcClock(clock.epoch_ms() + asleep_ms)  # ticks start again; the RTC went on
        reborn = simnet.make(store=store, net=net, clock=woken)[0]
        assert reborn.time_until_send_ms() == expected_ms, (asleep_ms, reborn.time_until_send_ms())


def test_reboot_keeps_the_join_backoff():
    from lorawan.joinbackoff import HOUR_MS

    device, radio, net, clock, store = simnet.make()
    net.answer_joins = False
    for _ in range(300):  # until even an SF12 join-request must wait for the next back-off window
        assert not device.join(attempts=1)
        if device.join_backoff.wait_ms(clock.now, 1500):
            break
    assert device.join_backoff.wait_ms(clock.now, 1500) > 0
    reborn, radio2 = simnet.make(store=store, net=net, clock=clock)[:2]
    assert not reborn.join(attempts=12)
    # the join airtime of both lives together stays within each window of the first start's timeline
    started = radio.sent[0][0]
    frames = radio.sent + radio2.sent
    for window_start, window_end in ((0, HOUR_MS), (HOUR_MS, 11 * HOUR_MS)):
        used = sum(time_on_air_ms(len(f[1]), f[3], f[4]) for f in frames if window_start <= f[0] - started < window_end)
        assert used <= 36000, (window_start, used)


def test_airtime_goes_to_rtc_memory_when_there_is_some():
    rtc = simnet.MemStore()
    device, radio, net, clock, store = joined(rtc=rtc)
    device.send(2, b"a")
    assert "airtime.a" in rtc.files and "airtime.a" not in store.files and "airtime.b" not in store.files
    reborn = simnet.make(store=store, rtc=rtc, net=net, clock=clock)[0]
    assert reborn.time_until_send_ms() == device.time_until_send_ms() > 0


def test_rtc_store_resumes_at_exact_counter():
    rtc = simnet.MemStore()
    device, radio, net, clock, store = joined(rtc=rtc)
    for _ in range(3):
        clock.now += 10 ** 6
        device.send(2, b"a")
    reborn = simnet.make(store=store, rtc=rtc, net=net, clock=clock)[0]
    assert reborn.session.fcnt_up == 3


def test_port0_mac_commands_are_decrypted_with_nwk_s_key():
    device, radio, net, clock, store = joined(battery=lambda: 42)
    net.queue.append((0, bytes((mc.DEV_STATUS,)), b"", False))
    assert device.send(2, b"a").downlinks == []  # port 0 is for the MAC, not the app
    device.send(2, b"b")
    assert mc.split(net.uplinks[-1].fopts, mc.UP_LENGTH) == [(mc.DEV_STATUS, bytes((42, 7)))]


def test_class_c_downlink_mac_commands_are_ignored():
    device, radio, net, clock, store = joined(device_class="C")
    state = net.sessions[simnet.DEV_ADDR]
    from lorawan import network
    phy = network.build_downlink(state[0], state[1], simnet.DEV_ADDR, state[3], fport=3, payload=b"on",
                                 fopts=mc.link_adr_req(0, 7, 0b001, 0, 3))
    state[3] += 1
    radio.class_c_queue.append(phy)
    assert device.poll(10) == [(3, b"on")]
    assert device.session.nb_trans == 1 and device.session.ch_mask == 0b111


def test_replayed_join_accept_is_rejected():
    device, radio, net, clock, store = joined()
    net.join_nonce -= 1  # the network would send the same JoinNonce again
    assert not device.join(attempts=1)
    assert device.rejected_downlinks == 1 and not device.joined
    assert device.join(attempts=1)  # a fresh JoinNonce is fine


def test_dev_nonce_counter_survives_reboots_without_session():
    store = simnet.MemStore()
    net = simnet.Network()
    net.answer_joins = False
    for _ in range(3):
        device = simnet.make(store=store, net=net)[0]
        assert not device.join(attempts=2)
    assert net.used_dev_nonces == [0, 1, 2, 3, 4, 5]


mpytest.main(globals())
