"""Run every bench module, print a Markdown table, write build/bench.json."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for sub in ("bridge", "codecs", "firmware"):
    sys.path.insert(0, str(ROOT / sub))

import bench  # noqa: E402


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("only", nargs="*", help="run only bench modules whose name contains one of these")
    parser.add_argument("--json", default=str(ROOT / "build" / "bench.json"), help="where to write the JSON")
    args = parser.parse_args(argv)

    rows: list[dict] = []
    failures = 0
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    for name in names:
        if args.only and not any(part in name for part in args.only):
            continue
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            rows.extend(module.run())
        except Exception:  # a broken bench is reported, the others still run
            failures += 1
            traceback.print_exc()
            rows.append({"area": name, "name": "bench module failed", "value": "error", "unit": "",
                         "target": "", "met": False})
        print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)

    print("| area | figure | value | unit | target | met |")
    print("| --- | --- | ---: | --- | --- | --- |")
    for row in rows:
        met = row.get("met")
        mark = "yes" if met is True else "NO" if met is False else "-"
        print(f"| {row.get('area', '')} | {row['name']} | {_fmt(row['value'])} | {row.get('unit', '')} "
              f"| {row.get('target', '') or ''} | {mark} |")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                              indent=2))
    met_count = sum(1 for r in rows if r.get("met") is True)
    missed = sum(1 for r in rows if r.get("met") is False)
    print(f"\n{met_count} targets met, {missed} missed; JSON written to {out}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
