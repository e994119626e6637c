# The Class C multicast session (tingfw.multicast) inside lorawan.Device, under MicroPython and CPython:
# group frames reach the group and nothing else, the counter only goes up and survives a reboot, and
# anything but unconfirmed application data down (no FOpts, no FPort 0, no ACK bit) is dropped.
import mpytest
import simnet
from lorawan import network
from lorawan.crypto import DOWNLINK, UPLINK
from lorawan.frame import CONFIRMED_DOWN, FCTRL_ACK, UNCONFIRMED_DOWN, UNCONFIRMED_UP, build_data
from lorawan.session import NO_FCNT
from tingfw.multicast import MulticastSession

MC_ADDR = 0x01ABCDEF
MC_NWK_S_KEY = bytes(range(32, 48))
MC_APP_S_KEY = bytes(range(48, 64))


def group_frame(fcnt, fport=20, payload=b"\x1e", mhdr=UNCONFIRMED_DOWN, fctrl=0, fopts=b"", nwk=MC_NWK_S_KEY,
                direction=DOWNLINK):
    return bytes(build_data(network.cmac_key(simnet.AES, nwk), network.cmac_key(simnet.AES, MC_APP_S_KEY),
                            direction, mhdr, MC_ADDR, fctrl, fcnt, fopts, fport, payload))


def session(store, f_cnt_min=0, mc_addr=MC_ADDR):
    return MulticastSession(simnet.AES, mc_addr, MC_NWK_S_KEY, MC_APP_S_KEY, store, f_cnt_min)


def joined_with_group(store=None, f_cnt_min=0):
    store = store if store is not None else simnet.MemStore()
    group = session(store, f_cnt_min)
    device, radio, net, clock, store = simnet.make(device_class="C", store=store, multicast=group)
    assert device.join(attempts=1)
    return device, radio, net, group


def deliver(device, radio, *phys):
    for phy in phys:
        radio.class_c_queue.append(phy)
    return device.poll(10)


def test_group_frame_goes_to_the_group_and_unicast_still_works():
    device, radio, net, group = joined_with_group()
    assert deliver(device, radio, group_frame(0, 20, b"\x1e\x00")) == []
    assert group.take() == [(20, b"\x1e\x00")] and group.take() == []
    assert device.rejected_downlinks == 0 and device.session.fcnt_down == NO_FCNT
    assert deliver(device, radio, net.downlink_now(9, b"one")) == [(9, b"one")]
    assert group.take() == []


def test_counter_strictly_increasing_across_16_bits():
    device, radio, net, group = joined_with_group()
    deliver(device, radio, group_frame(5, payload=b"a"), group_frame(5, payload=b"b"), group_frame(3, payload=b"c"),
            group_frame(6, payload=b"d"))
    assert [p for _, p in group.take()] == [b"a", b"d"]
    assert group.rejected == 2
    deliver(device, radio, group_frame(0xFFFF, payload=b"e"), group_frame(0x10001, payload=b"f"),
            group_frame(0x10001, payload=b"g"))
    assert [p for _, p in group.take()] == [b"e", b"f"] and group.next_fcnt == 0x10002


def test_lowest_counter_comes_from_the_config():
    device, radio, net, group = joined_with_group(f_cnt_min=10)
    deliver(device, radio, group_frame(9, payload=b"old"), group_frame(10, payload=b"new"))
    assert group.take() == [(20, b"new")]


def test_counter_survives_a_reboot_and_a_torn_write():
    store = simnet.MemStore()
    device, radio, net, group = joined_with_group(store)
    deliver(device, radio, group_frame(7, payload=b"seven"))
    assert group.take() == [(20, b"seven")]
    before_eight = dict(store.files)
    deliver(device, radio, group_frame(8, payload=b"eight"))
    rebooted = session(store, f_cnt_min=0)  # power cut, boot with the same config
    assert rebooted.next_fcnt == 9
    assert rebooted.offer(group_frame(8)) is True and rebooted.take() == [], "a replay after the reboot"
    # the write of frame 8's counter torn by a power cut: the CRC'd slots keep frame 7's record, and frame
    # 8 was never handed on (the counter is written first), so it may come again, frame 7 may not
    torn = simnet.MemStore()
    torn.files = dict(before_eight)
    newest = [name for name in store.files if store.files[name] != before_eight.get(name)][0]
    torn.files[newest] = store.files[newest][:-3]
    after_cut = session(torn)
    assert after_cut.next_fcnt == 8
    after_cut.offer(group_frame(7))
    after_cut.offer(group_frame(8, payload=b"eight"))
    assert after_cut.take() == [(20, b"eight")]


def test_config_can_raise_the_counter_but_never_lower_it_and_a_new_group_starts_fresh():
    store = simnet.MemStore()
    group = session(store)
    group.offer(group_frame(50))
    assert session(store, f_cnt_min=20).next_fcnt == 51
    assert session(store, f_cnt_min=80).next_fcnt == 80
    assert session(store, f_cnt_min=0, mc_addr=MC_ADDR + 1).next_fcnt == 0


def test_frame_dropped_when_its_counter_cannot_be_saved():
    class FullFlash(simnet.MemStore):
        def write(self, name, data):
            raise OSError(28)

    group = session(FullFlash())
    assert group.offer(group_frame(0)) is True
    assert group.take() == [] and group.rejected == 1


def test_only_unconfirmed_application_data_down_is_accepted():
    device, radio, net, group = joined_with_group()
    fcnt_down = device.session.fcnt_down
    bad = [
        group_frame(1, mhdr=CONFIRMED_DOWN),  # a group cannot acknowledge
        group_frame(2, fopts=b"\x06"),  # MAC command in FOpts (DevStatusReq)
        group_frame(3, fport=0, payload=b"\x06"),  # MAC commands on FPort 0
        group_frame(4, fport=None, payload=b""),  # no FPort at all
        group_frame(5, fctrl=FCTRL_ACK),  # an ACK bit
        group_frame(6, fport=224),  # reserved port
        group_frame(7, nwk=bytes(16)),  # wrong McNwkSKey: MIC fails
        group_frame(8, mhdr=UNCONFIRMED_UP, direction=UPLINK),  # an uplink carrying McAddr
    ]
    assert deliver(device, radio, *bad) == []
    assert group.take() == [] and group.rejected == len(bad)
    assert device.rejected_downlinks == 0 and device.session.fcnt_down == fcnt_down
    deliver(device, radio, group_frame(9, payload=b"ok"))
    assert group.take() == [(20, b"ok")]


def test_group_frames_are_never_acknowledged():
    device, radio, net, group = joined_with_group()
    deliver(device, radio, group_frame(0))
    assert group.take()
    device.send(2, b"x")
    assert radio.sent[-1][1][5] & FCTRL_ACK == 0, "the next uplink must not carry an ACK"


def test_inbox_is_bounded():
    group = session(simnet.MemStore())
    for fcnt in range(10):
        group.offer(group_frame(fcnt, payload=bytes((fcnt,))))
    assert [p for _, p in group.take()] == [bytes((fcnt,)) for fcnt in range(6, 10)]


mpytest.main(globals())
