# Group (multicast) commands on the streetlight, under the real MicroPython interpreter: the config's
# multicast section validated at boot, group commands applied like unicast ones, and their config_ack
# spread over a random delay instead of sent at once. The rig: streetlight_rig.py.
import json

import mpytest
import tingcodec
from lorawan import network
from lorawan.aes import aes_factory
from lorawan.crypto import DOWNLINK
from lorawan.frame import UNCONFIRMED_DOWN, build_data
from streetlight_rig import KEYS, Rig
from tingfw import boards, config
from tingfw import main as boot
from tingfw.fakes import FakeClock, FakeHardware, FakeLink, FakeStore

GROUP = {"group": "vestergade", "mc_addr": "01ABCDEF", "mc_nwk_s_key": "202122232425262728292a2b2c2d2e2f",
         "mc_app_s_key": "303132333435363738393a3b3c3d3e3f", "frequency_hz": 869525000, "dr": 0}
AES = aes_factory()


def group_frame(fcnt, message, fields):
    fport, payload = tingcodec.encode("streetlight", message, fields)
    frame = build_data(network.cmac_key(AES, bytes.fromhex(GROUP["mc_nwk_s_key"])),
                       network.cmac_key(AES, bytes.fromhex(GROUP["mc_app_s_key"])), DOWNLINK, UNCONFIRMED_DOWN,
                       int(GROUP["mc_addr"], 16), 0, fcnt, b"", fport, payload)
    return bytes(frame), payload


def acks(rig, start=0):
    return [m[1] for m in rig.messages(start) if m[0] == "config_ack"]


def test_group_set_level_applied_and_acknowledged_later_at_a_random_moment():
    rig = Rig(multicast=GROUP, intervals={"group_ack_spread_s": 600})
    rig.random_ms = 300500  # this lamp's draw: answer 300.5 s after the command
    rig.app.start()
    rig.run_s(2)
    start = len(rig.link.sent)
    frame, payload = group_frame(0, "set_level", {"level_pct": 37})
    assert rig.link.multicast.offer(frame)
    rig.run_s(3)
    assert rig.level() == 37
    rig.run_s(290)
    assert acks(rig, start) == [], "no reply at once: a whole street would answer together"
    rig.run_s(15)
    assert acks(rig, start) == [{"command_fport": 20, "result": "applied",
                                 "applied_crc16": tingcodec.crc16(payload)}]
    rig.run_s(600)
    assert len(acks(rig, start)) == 1


def test_group_acks_can_be_switched_off():
    rig = Rig(multicast=GROUP, intervals={"group_ack_spread_s": 0})
    rig.app.start()
    rig.run_s(2)
    start = len(rig.link.sent)
    rig.link.multicast.offer(group_frame(0, "set_default_level", {
        "default_level_pct": 40, "failsafe_level_pct": 100, "failsafe_after_s": 3600})[0])
    rig.run_s(1000)
    assert rig.level() == 40 and rig.app.settings["default_level_pct"] == 40
    assert acks(rig, start) == []


def test_group_command_is_network_contact_and_a_replay_is_not_applied_again():
    rig = Rig(multicast=GROUP, thresholds={"default_level_pct": 30, "failsafe_level_pct": 100,
                                           "failsafe_after_s": 600})
    rig.link.acks = [False] * 100  # nothing unicast ever comes back
    rig.app.start()
    rig.run_s(660)
    assert rig.level() == 100
    frame = group_frame(0, "set_report_interval", {"report_interval_s": 900})[0]
    rig.link.multicast.offer(frame)
    rig.run_s(2)
    assert rig.level() == 30, "a group frame with a valid MIC proves the network is there"
    level = group_frame(1, "set_level", {"level_pct": 37})[0]
    rig.link.multicast.offer(level)
    rig.run_s(2)
    rig.command("set_level", {"level_pct": 80})
    rig.run_s(2)
    rig.link.multicast.offer(level)  # recorded off the air and sent again
    rig.run_s(2)
    assert rig.level() == 80


def test_boot_gives_the_own_mac_the_group_session_and_an_at_modem_says_it_cannot():
    raw = _config(**GROUP)
    clock = FakeClock()
    link = FakeLink(clock=clock)
    flash = FakeStore()
    lines = []
    started = boot.start(json.dumps(raw), FakeHardware(clock), clock, lines.append, link_factory=lambda *a: link,
                         stores=(FakeStore(), flash))
    app = started[1]
    assert app.group is link.multicast and link.multicast.mc_addr == 0x01ABCDEF
    assert "multicast: group vestergade" in lines
    assert link.multicast.offer(group_frame(0, "set_level", {"level_pct": 5})[0])
    assert flash.read("mcast.a") or flash.read("mcast.b"), "the group counter is kept in flash"

    class AtModemLink(FakeLink):  # runs its own MAC: nothing to attach a group session to
        def __init__(self, clock):
            FakeLink.__init__(self, clock=clock)
            del self.multicast

    lines = []
    started = boot.start(json.dumps(raw), FakeHardware(clock), clock, lines.append,
                         link_factory=lambda *a: AtModemLink(clock), stores=(FakeStore(), FakeStore()))
    assert started[1].group is None
    assert [line for line in lines if "group commands will not reach this device" in line], lines


def _config(**section):
    raw = {"device": "streetlight", "board": "heltec_wifi_lora32_v3", "multicast": section}
    raw.update(KEYS)
    return raw


def _refused(raw):
    return mpytest.raises(config.ConfigError, config.validate, raw, boards.board_names())


def test_multicast_section_validated_at_boot_without_echoing_keys():
    cfg = config.validate(_config(**GROUP), boards.board_names())
    assert cfg["multicast"] == {"group": "vestergade", "mc_addr": 0x01ABCDEF, "f_cnt_min": 0,
                                "mc_nwk_s_key": GROUP["mc_nwk_s_key"], "mc_app_s_key": GROUP["mc_app_s_key"]}
    no_group = config.validate(dict(_config(), multicast=None), boards.board_names())
    assert no_group["multicast"] is None
    short_key = dict(GROUP, mc_app_s_key=GROUP["mc_app_s_key"][:-2])
    error = _refused(_config(**short_key))
    assert error.blink_code == config.BLINK_BAD_KEYS and "mc_app_s_key" in error.message
    assert GROUP["mc_app_s_key"][:-2] not in error.message
    assert _refused(_config(**dict(GROUP, mc_addr="xyz"))).blink_code == config.BLINK_BAD_KEYS
    assert _refused(_config(**dict(GROUP, colour="red"))).blink_code == config.BLINK_UNKNOWN_NAME
    assert _refused(_config(**dict(GROUP, f_cnt_min=-1))).blink_code == config.BLINK_BAD_VALUE
    assert _refused(_config(**dict(GROUP, f_cnt_min=2 ** 32))).blink_code == config.BLINK_BAD_VALUE
    wrong_channel = _refused(_config(**dict(GROUP, frequency_hz=868100000)))
    assert wrong_channel.blink_code == config.BLINK_BAD_VALUE and "frequency_hz" in wrong_channel.message
    assert _refused(_config(**dict(GROUP, dr=3))).blink_code == config.BLINK_BAD_VALUE
    lamp_list = dict(_config(**GROUP), multicast=[GROUP])
    assert _refused(lamp_list).blink_code == config.BLINK_BAD_VALUE
    bin_with_group = dict(_config(**GROUP), device="fill_level")
    assert _refused(bin_with_group).blink_code == config.BLINK_UNKNOWN_NAME


mpytest.main(globals())
