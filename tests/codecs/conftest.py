"""Make the shared MicroPython test data (tests/codecs/mpy) importable from the CPython tests."""

import sys
from pathlib import Path

MPY_DIR = Path(__file__).resolve().parent / "mpy"
if str(MPY_DIR) not in sys.path:
    sys.path.insert(0, str(MPY_DIR))
