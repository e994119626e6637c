"""Codec sizes against the issue's targets, versus Cayenne LPP, compact JSON and a bit-packed
floor, with time on air at SF7/SF12, and CPython decode throughput.

`python -m bench codecs` (in the `make bench` table) or `python -m bench.bench_codecs` (the
full per-message table).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _sub in ("codecs", "firmware"):
    if str(ROOT / _sub) not in sys.path:
        sys.path.insert(0, str(ROOT / _sub))

import tingcodec  # noqa: E402
from tingcodec import examples  # noqa: E402

from bench.airtime import SOURCE as AIRTIME_SOURCE  # noqa: E402
from bench.airtime import app_payload_airtime_ms  # noqa: E402

AREA = "codecs"
THROUGHPUT_TARGET = 200_000
# Cayenne LPP data bytes per unit (channel and type bytes come on top): temperature 0x67,
# voltage 116, distance 130, percentage 120, power 128, energy 131, direction 132.
LPP_DATA_B = {"°C": 2, "mV": 2, "mm": 4, "%": 1, "W": 2, "Wh": 4, "°": 2}


def lpp_size(msg: dict) -> int:
    """Bytes for the same information as Cayenne LPP (each value its own channel)."""
    size = 0
    for field in msg["fields"]:
        if field["kind"] == "flags":
            size += 3 * len(field["bits"])  # one digital input per flag
        elif field["kind"] == "enum":
            size += 3
        elif field["kind"] == "list":
            size += 6 * field["max_items"]  # a generic 4-byte sensor per packed item
        elif field["unit"] in LPP_DATA_B:
            size += 2 + LPP_DATA_B[field["unit"]]
        else:  # digital input for 0..255, else the 4-byte generic sensor
            size += 3 if field["min"] >= 0 and field["max"] <= 255 else 6
    return size


def _bits(span: int) -> int:
    return max(1, math.ceil(math.log2(span + 1))) if span > 0 else 0


def bit_floor(msg: dict) -> int:
    """Bytes of a hand-packed bit layout with the same ranges: the floor for this information."""
    bits = 0
    for field in msg["fields"]:
        kind = field["kind"]
        if kind == "int":
            bits += _bits((field["max"] - field["min"]) * field["scale"] // field["step"])
        elif kind == "flags":
            bits += len(field["bits"])
        elif kind == "enum":
            bits += _bits(len(field["values"]) - 1)
        else:
            bits += _bits(field["max_items"]) + field["max_items"] * sum(s["width"] for s in field["item"])
    return math.ceil(bits / 8)


def json_size(fields: dict) -> int:
    """Compact JSON of the same values with one-letter keys (a fair best case for JSON)."""
    short = {chr(ord("a") + index): value for index, value in enumerate(fields.values())}
    return len(json.dumps(short, separators=(",", ":"), ensure_ascii=False).encode())


def target_for(device: str, msg: dict) -> int:
    if (device, msg["name"]) == ("fill_level", "status"):
        return 8
    if (device, msg["name"]) == ("lifebuoy", "presence"):
        return 4
    if (device, msg["name"]) == ("streetlight", "set_schedule"):
        return 51
    return 11


def size_table() -> list[dict]:
    """One entry per message of every device type (common messages once)."""
    table = []
    seen_common = set()
    common = {msg["name"] for msg in tingcodec.catalogue.COMMON_MESSAGES}
    for device, msg in examples.all_messages():
        if msg["name"] in common:
            if msg["name"] in seen_common:
                continue
            seen_common.add(msg["name"])
        typical = examples.typical(device, msg["name"])
        ours_typical = len(tingcodec.encode(device, msg["name"], typical)[1])
        ours_max = len(tingcodec.encode(device, msg["name"], examples.largest(msg))[1])
        table.append({
            "message": ("common" if msg["name"] in common else device) + "." + msg["name"],
            "direction": msg["direction"], "fport": msg["fport"], "ours_typical": ours_typical,
            "ours_max": ours_max, "target": target_for(device, msg), "lpp": lpp_size(msg),
            "json": json_size(typical), "floor": bit_floor(msg),
            "sf7_ms": app_payload_airtime_ms(ours_max, 7), "sf12_ms": app_payload_airtime_ms(ours_max, 12),
            "json_sf12_ms": app_payload_airtime_ms(json_size(typical), 12),
        })
    return table


def decode_throughput(backend: str, rounds: int = 5, per_round: int = 20_000) -> tuple[float, float]:
    """Uplinks decoded per second of CPU time and of wall time (best rounds), over the typical
    uplink of every message. CPU time (this thread's) is the one-core figure: the build machine
    is shared, and wall time also counts the time other processes held the core."""
    samples = []
    for device, msg in examples.all_messages():
        if msg["direction"] == "up":
            fport, payload = tingcodec.encode(device, msg["name"], examples.typical(device, msg["name"]))
            samples.append((fport, payload, device))
    work = (samples * (per_round // len(samples) + 1))[:per_round]
    decode = tingcodec.decode
    previous = tingcodec.set_cbor_backend(backend)
    try:
        best_cpu = best_wall = math.inf
        for _ in range(rounds):
            started_cpu, started_wall = time.thread_time(), time.perf_counter()
            for fport, payload, device in work:
                decode(fport, payload, device)
            best_cpu = min(best_cpu, time.thread_time() - started_cpu)
            best_wall = min(best_wall, time.perf_counter() - started_wall)
    finally:
        tingcodec.set_cbor_backend(previous)
    return len(work) / best_cpu, len(work) / best_wall


MICROPYTHON_SCRIPT = """
import time, tingcodec
from tingcodec import examples
work = []
for device, msg in examples.all_messages():
    if msg["direction"] == "up":
        work.append((device, msg["name"], examples.typical(device, msg["name"])))
encoded = [(d, tingcodec.encode(d, m, f)) for d, m, f in work]
rounds = 200
start = time.ticks_us()
for _ in range(rounds):
    for d, m, f in work:
        tingcodec.encode(d, m, f)
encode_us = time.ticks_diff(time.ticks_us(), start)
start = time.ticks_us()
for _ in range(rounds):
    for d, (fport, payload) in encoded:
        tingcodec.decode(fport, payload, d)
decode_us = time.ticks_diff(time.ticks_us(), start)
n = rounds * len(work)
print(n * 1000000 // encode_us, n * 1000000 // decode_us)
"""


def micropython_rates() -> tuple[int, int] | None:
    """(encodes/s, decodes/s) under the MicroPython unix port, or None when it is not installed."""
    exe = shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")
    if not exe:
        return None
    env = dict(os.environ, MICROPYPATH=str(ROOT / "codecs"))
    result = subprocess.run([exe, "-c", MICROPYTHON_SCRIPT], capture_output=True, text=True, timeout=120, env=env)
    if result.returncode != 0:
        raise RuntimeError("MicroPython bench failed: " + result.stderr.strip()[-300:])
    encodes, decodes = (int(x) for x in result.stdout.split())
    return encodes, decodes


def run() -> list[dict]:
    rows = []
    for entry in size_table():
        target = entry["target"]
        rows.append({
            "area": AREA, "name": f"{entry['message']} ({entry['direction']}, fPort {entry['fport']}) max size",
            "value": entry["ours_max"], "unit": "B", "target": f"<= {target}", "met": entry["ours_max"] <= target,
            "note": (f"typical {entry['ours_typical']} B; LPP {entry['lpp']} B; JSON {entry['json']} B; "
                     f"bit floor {entry['floor']} B; airtime at max SF7 {entry['sf7_ms']:.3f} ms, "
                     f"SF12 {entry['sf12_ms']:.3f} ms"),
        })
    for sf, expected in ((7, 61.696), (12, 1482.752)):
        value = app_payload_airtime_ms(10, sf)
        rows.append({"area": AREA, "name": f"airtime of a 10 B payload at SF{sf}", "value": value, "unit": "ms",
                     "target": f"= {expected}", "met": abs(value - expected) < 1e-9,
                     "note": f"AN1200.13 via {AIRTIME_SOURCE}"})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    fast_cpu, fast_wall = decode_throughput("cbor2")
    rows.append({"area": AREA, "name": "CPython decode throughput (cbor2 backend)", "value": fast_cpu,
                 "unit": "uplinks/s", "target": f">= {THROUGHPUT_TARGET:,}", "met": fast_cpu >= THROUGHPUT_TARGET,
                 "note": f"per CPU second of one thread, best of 5 rounds; wall clock {fast_wall:,.0f}/s at "
                         f"load average {load:.1f} on {os.cpu_count()} cores"})
    pure_cpu, _ = decode_throughput("pure", rounds=3, per_round=5_000)
    rows.append({"area": AREA, "name": "CPython decode throughput (pure CBOR backend)", "value": pure_cpu,
                 "unit": "uplinks/s", "target": "", "met": None, "note": "per CPU second; for information"})
    rates = micropython_rates()
    if rates:
        for what, rate in zip(("encode", "decode"), rates, strict=True):
            rows.append({"area": AREA, "name": f"MicroPython (unix port) {what} rate", "value": rate,
                         "unit": "uplinks/s", "target": "", "met": None,
                         "note": "wall clock on the build machine; a microcontroller is far slower"})
    return rows


def _airtimes(entry: dict, sf: int) -> str:
    sizes = (entry["ours_max"], entry["lpp"], entry["json"], entry["floor"])
    return " / ".join(f"{app_payload_airtime_ms(size, sf):.1f}" for size in sizes)


def main() -> None:
    print("| message | dir | fPort | ours typ B | ours max B | target | met | LPP B | JSON B | bit floor B "
          "| SF7 ms (ours max / LPP / JSON / floor) | SF12 ms (ours max / LPP / JSON / floor) |")
    print("|" + " --- |" * 12)
    for e in size_table():
        print(f"| {e['message']} | {e['direction']} | {e['fport']} | {e['ours_typical']} | {e['ours_max']} "
              f"| <= {e['target']} | {'yes' if e['ours_max'] <= e['target'] else 'NO'} | {e['lpp']} | {e['json']} "
              f"| {e['floor']} | {_airtimes(e, 7)} | {_airtimes(e, 12)} |")
    print("\nJSON: the typical values, compact, one-letter keys; LPP: one channel per value, flags as digital "
          "inputs; floor: the same ranges bit-packed. Airtime: EU868 125 kHz, CR 4/5, preamble 8, explicit "
          f"header, CRC, 13 B LoRaWAN overhead ({AIRTIME_SOURCE}). JSON beyond 51 B cannot be sent at SF12.")
    fast_cpu, fast_wall = decode_throughput("cbor2")
    pure_cpu, _ = decode_throughput("pure", rounds=3, per_round=5_000)
    print(f"decode throughput per CPU second: {fast_cpu:,.0f} uplinks/s (cbor2; wall clock {fast_wall:,.0f}/s), "
          f"{pure_cpu:,.0f} uplinks/s (pure)")


if __name__ == "__main__":
    main()
