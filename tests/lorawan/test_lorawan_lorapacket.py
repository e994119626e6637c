"""Cross-checks with npm lora-packet (an independent implementation) on random keys, counters, payloads.

Frames our MAC builds (under MicroPython and CPython) must verify and decrypt in lora-packet; downlinks
and join-accepts lora-packet builds must be accepted by our MAC, and tampered copies rejected.
Set LORAWAN_XCHECK_SEED to replay a run; the seed is in every failure message.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, assert_micropython_ok, run_micropython, run_node

MPY = Path(__file__).parent / "mpy"
SEED = int(os.environ.get("LORAWAN_XCHECK_SEED", time.time_ns() % 2**32))
CASES = 60

NODE_VERIFY = r"""
const lp = require("lora-packet");
const cases = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const phys = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const out = cases.map((c, i) => {
  const p = lp.fromWire(Buffer.from(phys[i], "hex"));
  if (c.kind === "join_request") {
    return {mic: lp.verifyMIC(p, null, Buffer.from(c.app_key, "hex")), dev_nonce: p.DevNonce.readUInt16BE(0),
            join_eui: p.AppEUI.toString("hex"), dev_eui: p.DevEUI.toString("hex")};
  }
  const msb = Buffer.from([(c.fcnt >>> 16) & 0xff, c.fcnt >>> 24]);
  const nwk = Buffer.from(c.nwk_s_key, "hex"), app = Buffer.from(c.app_s_key, "hex");
  return {mic: lp.verifyMIC(p, nwk, null, msb), payload: lp.decrypt(p, app, nwk, msb).toString("hex"),
          fopts: p.FOpts.toString("hex"), fcnt16: p.getFCnt(), dev_addr: p.DevAddr.toString("hex"),
          fport: p.getFPort(), mtype: p.getMType(), fctrl: p.FCtrl.readUInt8(0)};
});
console.log(JSON.stringify(out));
"""

NODE_BUILD = r"""
const lp = require("lora-packet");
const cases = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const hex = (h) => Buffer.from(h, "hex");
const be = (v, n) => { const b = Buffer.alloc(n); b.writeUIntBE(v, 0, n); return b; };
const out = cases.map((c) => {
  if (c.kind === "join_accept") {
    return lp.fromFields({MType: "Join Accept", AppNonce: be(c.join_nonce, 3), NetID: be(c.net_id, 3),
      DevAddr: be(c.dev_addr, 4), DLSettings: Buffer.from([c.dl_settings]), RxDelay: Buffer.from([c.rx_delay]),
      CFList: hex(c.cflist)}, null, null, hex(c.app_key)).getPHYPayload().toString("hex");
  }
  const fields = {MType: c.confirmed ? "Confirmed Data Down" : "Unconfirmed Data Down", DevAddr: be(c.dev_addr, 4),
    FCtrl: {ACK: c.ack, FPending: c.fpending, ADR: false}, FCnt: c.fcnt & 0xffff, FOpts: hex(c.fopts)};
  fields.FPort = c.fport;
  fields.payload = hex(c.payload);
  const msb = Buffer.from([(c.fcnt >>> 16) & 0xff, c.fcnt >>> 24]);
  return lp.fromFields(fields, hex(c.app_s_key), hex(c.nwk_s_key), null, msb).getPHYPayload().toString("hex");
});
console.log(JSON.stringify(out));
"""


def _hex(rng: random.Random, size: int) -> str:
    return bytes(rng.getrandbits(8) for _ in range(size)).hex()


def _fopts(rng: random.Random) -> str:
    # whole MAC answers, as the MAC would put them in FOpts (LinkADRAns, DevStatusAns, LinkCheckReq)
    choices = ["0307", "06ff1f", "02", "0d", "0503", "0a03"]
    return "".join(rng.choice(choices) for _ in range(rng.randint(0, 3)))


def _counter(rng: random.Random) -> int:
    return rng.choice([rng.randint(0, 0xFFFF), rng.randint(0x10000, 0xFFFFFFFE), 0xFFFF, 0x10000])


def uplink_cases(rng: random.Random) -> list[dict]:
    cases: list[dict] = []
    for i in range(CASES):
        if i % 6 == 5:
            cases.append({"kind": "join_request", "app_key": _hex(rng, 16), "join_eui": _hex(rng, 8),
                          "dev_eui": _hex(rng, 8), "dev_nonce": rng.randint(0, 0xFFFF)})
            continue
        fport = rng.choice([0, rng.randint(1, 223)])
        cases.append({"kind": "uplink", "nwk_s_key": _hex(rng, 16), "app_s_key": _hex(rng, 16),
                      "dev_addr": rng.getrandbits(32), "fcnt": _counter(rng), "fport": fport,
                      "fctrl": rng.choice([0, 0x80, 0xC0, 0x20, 0xA0]), "confirmed": rng.random() < 0.5,
                      "fopts": "" if fport == 0 else _fopts(rng),
                      "payload": _hex(rng, rng.randint(0, 51)) if fport else _fopts(rng) or "02"})
    return cases


def _interpreters() -> list[str]:
    return ["micropython", "cpython"]


def _run(interpreter: str, script: Path, *args: str) -> str:
    if interpreter == "micropython":
        result = run_micropython(script, *args, extra_paths=(MPY,))
        assert_micropython_ok(result)
        return result.stdout
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(p) for p in (ROOT / "firmware", ROOT / "tests/mpylib", MPY)))
    result = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("interpreter", _interpreters())
def test_lora_packet_verifies_and_decrypts_our_frames(interpreter: str, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    cases = uplink_cases(rng)
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    phys = json.loads(_run(interpreter, MPY / "xcheck_build.py", str(tmp_path / "cases.json")))
    _assert_lora_packet_agrees(cases, phys, tmp_path)


@pytest.mark.parametrize("interpreter", _interpreters())
def test_lora_packet_verifies_frames_from_device_send(interpreter: str, tmp_path: Path) -> None:
    cases = json.loads(_run(interpreter, MPY / "xcheck_device.py", str(SEED)))
    assert len(cases) >= 12 and any(c["fopts"] for c in cases) and any(c["fcnt"] > 0xFFFF for c in cases)
    _assert_lora_packet_agrees(cases, [c["phy"] for c in cases], tmp_path)


def _assert_lora_packet_agrees(cases: list[dict], phys: list[str], tmp_path: Path) -> None:
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    (tmp_path / "phys.json").write_text(json.dumps(phys))
    node = run_node(NODE_VERIFY, str(tmp_path / "cases.json"), str(tmp_path / "phys.json"))
    assert node.returncode == 0, node.stderr
    for case, seen, phy in zip(cases, json.loads(node.stdout), phys, strict=True):
        where = f"seed {SEED}, frame {phy}"
        assert seen["mic"] is True, where
        if case["kind"] == "join_request":
            assert (seen["join_eui"], seen["dev_eui"], seen["dev_nonce"]) == (
                case["join_eui"], case["dev_eui"], case["dev_nonce"]), where
            continue
        assert seen["payload"] == case["payload"], where
        assert seen["fopts"] == case["fopts"] and seen["fport"] == case["fport"], where
        assert seen["fcnt16"] == case["fcnt"] & 0xFFFF and int(seen["dev_addr"], 16) == case["dev_addr"], where
        assert seen["mtype"] == ("Confirmed Data Up" if case["confirmed"] else "Unconfirmed Data Up"), where
        assert seen["fctrl"] & 0xF0 == case["fctrl"], where


def downlink_cases(rng: random.Random) -> list[dict]:
    cases: list[dict] = []
    for i in range(CASES):
        if i % 4 == 3:
            cflist = ""
            if rng.random() < 0.5:
                freqs = [867100000 + 200000 * k for k in range(5)]
                cflist = b"".join((f // 100).to_bytes(3, "little") for f in freqs).hex() + "00"
            cases.append({"kind": "join_accept", "app_key": _hex(rng, 16), "join_nonce": rng.getrandbits(24),
                          "net_id": rng.getrandbits(24), "dev_addr": rng.getrandbits(32),
                          "dl_settings": rng.randint(0, 5) << 4 | rng.randint(0, 7), "rx_delay": rng.randint(0, 15),
                          "cflist": cflist})
            continue
        # lora-packet's fromFields cannot build a frame without FPort, so every frame here has one
        fport = rng.choice([0, rng.randint(1, 223)])
        fopts = _fopts_down(rng) if fport else ""
        payload = _hex(rng, rng.randint(0, 40)) if fport else _fopts_down(rng) or "06"
        cases.append({"kind": "downlink", "nwk_s_key": _hex(rng, 16), "app_s_key": _hex(rng, 16),
                      "dev_addr": rng.getrandbits(32), "fcnt": _counter(rng), "fport": fport, "payload": payload,
                      "fopts": fopts, "ack": rng.random() < 0.5, "fpending": rng.random() < 0.3,
                      "confirmed": rng.random() < 0.5})
    return cases


def _fopts_down(rng: random.Random) -> str:
    # harmless network commands: LinkCheckAns, DeviceTimeAns, DevStatusReq
    return "".join(rng.choice(["020a02", "0d0102030480", "06"]) for _ in range(rng.randint(0, 2)))


def _tamper(rng: random.Random, phy: str) -> str:
    data = bytearray.fromhex(phy)
    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return data.hex()


@pytest.mark.parametrize("interpreter", _interpreters())
def test_our_mac_accepts_lora_packet_frames_and_rejects_tampered(interpreter: str, tmp_path: Path) -> None:
    rng = random.Random(SEED + 1)
    cases = downlink_cases(rng)
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    node = run_node(NODE_BUILD, str(tmp_path / "cases.json"))
    assert node.returncode == 0, node.stderr
    for case, phy in zip(cases, json.loads(node.stdout), strict=True):
        case["phy"] = phy
        case["tampered"] = _tamper(rng, phy)
    (tmp_path / "frames.json").write_text(json.dumps(cases))
    results = json.loads(_run(interpreter, MPY / "xcheck_accept.py", str(tmp_path / "frames.json")))
    for case, (accepted, tampered) in zip(cases, results, strict=True):
        where = f"seed {SEED + 1}, frame {case['phy']}"
        assert tampered is None, where + " (tampered copy was accepted)"
        assert accepted is not None, where
        if case["kind"] == "join_accept":
            rx_delay = case["rx_delay"] & 0x0F or 1
            expect = [case["join_nonce"], case["net_id"], case["dev_addr"], case["dl_settings"] >> 4 & 7,
                      case["dl_settings"] & 0x0F, rx_delay, case["cflist"]]
            assert accepted == expect, where
            continue
        ack, fcnt_down, downlinks = accepted
        assert ack == case["ack"] and fcnt_down == case["fcnt"], where
        expect_downlinks = [[case["fport"], case["payload"]]] if case["fport"] else []
        assert downlinks == expect_downlinks, where
