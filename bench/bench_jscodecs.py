"""JS codecs: QuickJS decode time per uplink against ChirpStack's 100 ms limit, and file sizes.

"ChirpStack-style" is one full invocation as ChirpStack >= 4.17 does it per uplink: a fresh
QuickJS context, the codec parsed as an ES module, decodeUplink run. "warm" reuses one
context (the decode work alone). Sizes are checked against TTN's 40 KB formatter limit.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from jscodegen.quickjs_runner import CHIRPSTACK_TIME_LIMIT_S, ScriptCodec, run_chirpstack, uplink_input

ROOT = Path(__file__).resolve().parent.parent
DEVICES = ("fill_level", "lifebuoy", "streetlight")
ROUNDS = 20
TTN_LIMIT_B = 40 * 1024


def _uplinks(device: str) -> list[tuple[int, bytes]]:
    vectors = json.loads((ROOT / "codecs" / "vectors.json").read_text(encoding="utf-8"))
    return [(v["fPort"], bytes.fromhex(v["hex"])) for v in vectors if v["device"] == device and v["direction"] == "up"]


def _row(name: str, value: float, unit: str, target: str = "", met: bool | None = None, note: str = "") -> dict:
    return {"area": "jscodecs", "name": name, "value": value, "unit": unit, "target": target, "met": met,
            "note": note}


def run() -> list[dict]:
    rows = []
    limit_ms = CHIRPSTACK_TIME_LIMIT_S * 1000
    for device in DEVICES:
        path = ROOT / "codecs" / "chirpstack" / f"{device}.js"
        source = path.read_text(encoding="utf-8")
        uplinks = _uplinks(device)
        cold_ms = []
        cold_cpu_ms = []
        for _ in range(ROUNDS):
            for fport, payload in uplinks:
                started, started_cpu = time.perf_counter(), time.process_time()
                result = run_chirpstack(source, "decodeUplink", uplink_input(fport, payload))
                cold_ms.append((time.perf_counter() - started) * 1000)
                cold_cpu_ms.append((time.process_time() - started_cpu) * 1000)
                assert "data" in result, result
        codec = ScriptCodec(source)
        started = time.perf_counter()
        for _ in range(ROUNDS * 10):
            for fport, payload in uplinks:
                codec.call("decodeUplink", uplink_input(fport, payload))
        warm_us = (time.perf_counter() - started) * 1e6 / (ROUNDS * 10 * len(uplinks))
        worst = max(cold_ms)
        rows += [
            _row(f"{device} QuickJS decode, ChirpStack-style (median)", statistics.median(cold_ms), "ms",
                 f"<= {limit_ms:.0f}", statistics.median(cold_ms) <= limit_ms,
                 f"{len(cold_ms)} runs: fresh context + module parse + decodeUplink"),
            _row(f"{device} QuickJS decode, ChirpStack-style (max)", worst, "ms", f"<= {limit_ms:.0f}",
                 worst <= limit_ms, "wall clock on a shared machine: the max includes waiting for a core"),
            _row(f"{device} QuickJS decode, ChirpStack-style CPU (median)", statistics.median(cold_cpu_ms), "ms",
                 note="process CPU time of the same runs"),
            _row(f"{device} QuickJS decode, warm context", warm_us, "us", note="decode work alone, incl. JSON bridge"),
            _row(f"{device}.js size", path.stat().st_size, "B", f"<= {TTN_LIMIT_B}",
                 path.stat().st_size <= TTN_LIMIT_B, "TTN formatter limit; ChirpStack has none"),
        ]
    return rows
