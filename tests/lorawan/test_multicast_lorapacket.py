"""Multicast frames cross-checked with npm lora-packet (an independent implementation).

lora-packet builds group frames (McAddr, McNwkSKey, McAppSKey, counters across the 16-bit boundary) that
tingfw.multicast must accept under MicroPython and CPython, and tampered copies it must drop; and the
frame devnet puts on air for a group command must verify and decrypt in lora-packet.
Set LORAWAN_XCHECK_SEED to replay a run; the seed is in every failure message.
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest
from chirpstack_api import api, common
from conftest import run_node
from test_lorawan_lorapacket import (  # the same seed and interpreters as the MAC's cross-checks
    MPY,
    SEED,
    _run,
)
from tingbro.devnet.lns import NetworkServer
from tingbro.devnet.registry import Device, Registry, Session

GROUPS = 6
FRAMES_PER_GROUP = 8

NODE_BUILD = r"""
const lp = require("lora-packet");
const groups = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const hex = (h) => Buffer.from(h, "hex");
const be = (v, n) => { const b = Buffer.alloc(n); b.writeUIntBE(v, 0, n); return b; };
for (const g of groups) {
  for (const f of g.frames) {
    const msb = Buffer.from([(f.fcnt >>> 16) & 0xff, f.fcnt >>> 24]);
    f.phy = lp.fromFields({MType: "Unconfirmed Data Down", DevAddr: be(g.mc_addr, 4),
      FCtrl: {ACK: false, FPending: f.fpending, ADR: false}, FCnt: f.fcnt & 0xffff, FPort: f.fport,
      payload: hex(f.payload)}, hex(g.mc_app_s_key), hex(g.mc_nwk_s_key), null, msb).getPHYPayload().toString("hex");
  }
}
console.log(JSON.stringify(groups));
"""

NODE_VERIFY = r"""
const lp = require("lora-packet");
const c = JSON.parse(process.argv[1]);
const p = lp.fromWire(Buffer.from(c.phy, "hex"));
const msb = Buffer.from([(c.fcnt >>> 16) & 0xff, c.fcnt >>> 24]);
const nwk = Buffer.from(c.nwk, "hex"), app = Buffer.from(c.app, "hex");
console.log(JSON.stringify({mic: lp.verifyMIC(p, nwk, null, msb), mtype: p.getMType(), fport: p.getFPort(),
  dev_addr: p.DevAddr.toString("hex"), fcnt16: p.getFCnt(), fctrl: p.FCtrl.readUInt8(0),
  payload: lp.decrypt(p, app, nwk, msb).toString("hex")}));
"""


def _hex(rng: random.Random, size: int) -> str:
    return bytes(rng.getrandbits(8) for _ in range(size)).hex()


def _groups(rng: random.Random) -> list[dict]:
    groups = []
    for _ in range(GROUPS):
        fcnt = rng.choice([0, rng.randint(0, 0xFFF0), rng.randint(0x10000, 0xFFFF0000)])
        group = {"mc_addr": rng.getrandbits(32), "mc_nwk_s_key": _hex(rng, 16), "mc_app_s_key": _hex(rng, 16),
                 "f_cnt_min": fcnt, "frames": []}
        for _ in range(FRAMES_PER_GROUP):
            fcnt += rng.choice([0, 1, 7, 300]) if group["frames"] else 0
            group["frames"].append({"fcnt": fcnt, "fport": rng.randint(1, 223), "fpending": rng.random() < 0.2,
                                    "payload": _hex(rng, rng.randint(1, 40))})
            fcnt += 1
        groups.append(group)
    return groups


def _tamper(rng: random.Random, phy: str) -> str:
    data = bytearray.fromhex(phy)
    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return data.hex()


@pytest.mark.parametrize("interpreter", ["micropython", "cpython"])
def test_group_session_accepts_lora_packet_frames_and_drops_tampered(interpreter: str, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    (tmp_path / "groups.json").write_text(json.dumps(_groups(rng)))
    node = run_node(NODE_BUILD, str(tmp_path / "groups.json"))
    assert node.returncode == 0, node.stderr
    groups = json.loads(node.stdout)
    for group in groups:
        for frame in group["frames"]:
            frame["tampered"] = _tamper(rng, frame["phy"])
    (tmp_path / "frames.json").write_text(json.dumps(groups))
    results = json.loads(_run(interpreter, MPY / "xcheck_multicast.py", str(tmp_path / "frames.json")))
    frames = [frame for group in groups for frame in group["frames"]]
    assert len(results) == len(frames) == GROUPS * FRAMES_PER_GROUP
    for frame, (payload, tampered_through) in zip(frames, results, strict=True):
        where = f"seed {SEED}, frame {frame['phy']}"
        assert not tampered_through, where + " (tampered copy was accepted)"
        assert payload == frame["payload"], where


def test_devnets_group_frame_verifies_in_lora_packet() -> None:
    rng = random.Random(SEED)
    sent: list[str] = []
    registry = Registry()
    network = NetworkServer(registry, lambda gateway, text: sent.append(text) or len(sent), lambda event: None)
    member = Device("70b3d57ed0000001", "0" * 16, bytes(16), "lamp-1", "streetlight", {}, class_c=True)
    member.session = Session(0x26000001, None, None)
    member.session.gateway_eui = "0080000000000001"
    for f_cnt in (0, 0x1FFFE):
        group = api.MulticastGroup(mc_addr=_hex(rng, 4), mc_nwk_s_key=_hex(rng, 16), mc_app_s_key=_hex(rng, 16),
                                   f_cnt=f_cnt, group_type=api.MulticastGroupType.CLASS_C, dr=0,
                                   frequency=869525000, region=common.Region.EU868)
        item = api.MulticastGroupQueueItem(f_port=20, data=bytes.fromhex(_hex(rng, 5)))
        assert network.send_multicast(group, [member], item) == f_cnt
        txpk = json.loads(sent[-1])
        assert txpk["imme"] is True and txpk["freq"] == 869.525 and txpk["datr"] == "SF12BW125"
        phy = base64.b64decode(txpk["data"]).hex()
        case = {"phy": phy, "fcnt": f_cnt, "nwk": group.mc_nwk_s_key, "app": group.mc_app_s_key}
        node = run_node(NODE_VERIFY, json.dumps(case))
        assert node.returncode == 0, node.stderr
        seen = json.loads(node.stdout)
        where = f"seed {SEED}, frame {phy}"
        assert seen["mic"] is True and seen["mtype"] == "Unconfirmed Data Down", where
        assert seen["dev_addr"] == group.mc_addr and seen["fport"] == 20 and seen["fcnt16"] == f_cnt & 0xFFFF, where
        assert seen["fctrl"] == 0 and seen["payload"] == item.data.hex(), where
