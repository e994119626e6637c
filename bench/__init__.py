"""`make bench`: measures every target the issues name and prints one table.

Each `bench/bench_*.py` module exposes `run() -> list[dict]`, one dict per figure:
  {"area": "codecs", "name": "fill_level status size", "value": 7, "unit": "B",
   "target": "<= 8", "met": True, "note": "optional"}
`met` is None where the figure has no target (reported for information).
"""
