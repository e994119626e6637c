"""The demo fleet through the whole chain: joins, uplinks accepted by devnet vs delivered to the webhook.

Runs `tingbro demo`'s code (20 bins, 5 lifebuoys, 5 streetlights, sleeps x2000) for 60 s in a temporary
folder; every process is stopped afterwards.
"""

from __future__ import annotations

import io
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from tingbro.demo.runner import Demo

DURATION_S = 60


def _last_join_after_s(demo: Demo) -> float | None:
    """Seconds from starting the fleet to the last device's join event (devnet's timestamps)."""
    assert demo.receiver is not None
    times = [datetime.fromisoformat(e["time"]).timestamp() for e in demo.receiver.snapshot() if e["type"] == "join"]
    return max(times) - demo.fleet_started_unix_s if times else None


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as folder:
        demo = Demo(Path(folder) / "demo", time_scale=2000, out=io.StringIO())
        try:
            result = demo.run(DURATION_S)
            joined_after_s = _last_join_after_s(demo)
            fleet_size = len(demo.fleet.devices) if demo.fleet else 0
        finally:
            demo.close()
    accepted, delivered = result["uplinks_at_network"], result["uplinks_at_webhook"]
    lost = accepted - delivered
    commands = result["commands"]
    return [
        {"area": "e2e", "name": "demo fleet joined (devices)", "value": result["joins"], "unit": "joins",
         "target": f">= {fleet_size}", "met": result["joins"] >= fleet_size},
        {"area": "e2e", "name": "last device joined after", "value": round(joined_after_s or -1, 1), "unit": "s",
         "target": "< 30", "met": joined_after_s is not None and joined_after_s < 30,
         "note": "wall time from starting 30 MicroPython devices to the last join event (emitted, as ChirpStack does, when the join-request is accepted)"},
        {"area": "e2e", "name": f"uplinks accepted by devnet in {DURATION_S} s", "value": accepted, "unit": "uplinks",
         "target": None, "met": None},
        {"area": "e2e", "name": "uplinks lost between devnet and the webhook", "value": lost, "unit": "uplinks",
         "target": "0", "met": lost == 0},
        {"area": "e2e", "name": "streetlight commands acked", "value": sum(c["status"] == "acked" for c in commands),
         "unit": f"of {len(commands)}", "target": f"{len(commands)}",
         "met": all(c["status"] == "acked" for c in commands)},
    ]
