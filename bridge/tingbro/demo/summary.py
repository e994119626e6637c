"""The live summary of a demo fleet, from the events the municipality received (pure)."""

from __future__ import annotations

from typing import Any

FULL_RATIO = 0.8


def summarize(events: list[dict[str, Any]]) -> dict[str, Any]:
    bins: dict[str, float] = {}
    buoys: dict[str, bool] = {}
    lights: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    alarms: list[str] = []
    for event in events:
        kind = event.get("type")
        counts[kind] = counts.get(kind, 0) + 1
        device = event.get("device") or {}
        name = device.get("name") or device.get("dev_eui") or "?"
        device_type = device.get("device_type")
        fields = event.get("fields") or {}
        if kind == "alarm":
            alarm = event.get("alarm") or {}
            alarms.append(f"{name}: {alarm.get('name')} {'raised' if alarm.get('active') else 'cleared'}")
            if alarm.get("name") == "lifebuoy_removed":
                buoys[name] = not alarm.get("active")
        if kind != "uplink":
            continue
        if device_type == "fill_level" and "fill_ratio" in (event.get("derived") or {}):
            bins[name] = event["derived"]["fill_ratio"]
        elif device_type == "lifebuoy" and "present" in fields:
            buoys[name] = bool(fields["present"])
        elif device_type == "streetlight":
            light = lights.setdefault(name, {"level_pct": None, "power_w": None, "energy_wh": None,
                                             "lamp_failure": False})
            for key in ("level_pct", "power_w", "energy_wh"):
                if key in fields:
                    light[key] = fields[key]
            if event.get("message") == "lamp_failure" or fields.get("lamp_failure"):
                light["lamp_failure"] = True
    return {"bins_reporting": len(bins), "bins_full": sorted(n for n, r in bins.items() if r >= FULL_RATIO),
            "bin_fill": dict(sorted(bins.items())), "buoys_reporting": len(buoys),
            "buoys_missing": sorted(n for n, present in buoys.items() if not present),
            "lights": dict(sorted(lights.items())), "events": counts, "alarms": alarms}


def render(summary: dict[str, Any], commands: list[dict[str, Any]], elapsed_s: float) -> str:
    lines = [f"[{elapsed_s:5.0f} s] events {sum(summary['events'].values())} "
             + " ".join(f"{k}={v}" for k, v in sorted(summary["events"].items()))]
    full = summary["bins_full"]
    lines.append(f"  bins above {FULL_RATIO:.0%}: {len(full)} of {summary['bins_reporting']} reporting"
                 + (f" ({', '.join(full)})" if full else ""))
    missing = summary["buoys_missing"]
    lines.append(f"  lifebuoys missing: {len(missing)} of {summary['buoys_reporting']}"
                 + (f" ({', '.join(missing)})" if missing else ""))
    for name, light in summary["lights"].items():
        energy = "-" if light["energy_wh"] is None else f"{light['energy_wh']} Wh"
        level = "-" if light["level_pct"] is None else f"{light['level_pct']} %"
        failure = "  LAMP FAILURE" if light["lamp_failure"] else ""
        lines.append(f"  {name}: level {level}, power {light['power_w'] if light['power_w'] is not None else '-'} W,"
                     f" energy {energy}{failure}")
    for command in commands:
        lines.append(f"  command {command.get('label')}: {command.get('status')}")
    return "\n".join(lines)
