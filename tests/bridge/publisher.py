"""A load generator in its own process: publish N ChirpStack uplinks at QoS 1 to a broker on 127.0.0.1.

Usage: python publisher.py PORT COUNT DEVICES [RATE_PER_S]. Prints the idempotency keys' prefix count when
done; every PUBACK from the broker is awaited, so the broker holds all of them.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent.parent / "codecs"), str(HERE.parent.parent / "bridge")]

import chirp  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402


def dedup_id(index: int) -> str:
    return str(uuid.UUID(int=0x7B000000_0000_4000_8000_000000000000 + index))


def main() -> int:
    port, count, devices = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    rate = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"loadgen-{port}")
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    template = chirp.uplink(dev_eui="00000000000000ff")
    started = time.monotonic()
    pending = []
    for index in range(count):
        dev_eui = "70b3d57ed0%06x" % (index % devices)
        template.deduplication_id = dedup_id(index)
        template.device_info.dev_eui = dev_eui
        template.f_cnt = index // devices
        body = chirp.chirpstack_json(template)
        pending.append(client.publish(f"application/{chirp.APP_ID}/device/{dev_eui}/event/up", body, qos=1))
        if rate:
            ahead_s = (index + 1) / rate - (time.monotonic() - started)
            if ahead_s > 0:
                time.sleep(ahead_s)
    for info in pending:
        info.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()
    print(f"published {count} in {time.monotonic() - started:.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
