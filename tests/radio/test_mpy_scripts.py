"""Run the radio's MicroPython test scripts under the real interpreter (and the pure ones on CPython too)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MICROPYPATH, ROOT, assert_micropython_ok, run_micropython

MPY = Path(__file__).parent / "mpy"
SCRIPTS = ["mpy_gwmp_codec.py", "mpy_sx12xx.py", "mpy_at_modem.py", "mpy_at_streetlight.py"]
# Scripts whose code under test also runs on CPython (the sx12xx adapter needs time.ticks_diff).
CPYTHON_TOO = ["mpy_gwmp_codec.py", "mpy_at_modem.py"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_under_micropython(script: str) -> None:
    result = run_micropython(MPY / script, timeout=60)
    assert_micropython_ok(result)
    assert " 0 failed" in result.stdout


@pytest.mark.parametrize("script", CPYTHON_TOO)
def test_under_cpython(script: str) -> None:
    env = {"PYTHONPATH": MICROPYPATH.replace(".frozen", "")}
    result = subprocess.run([sys.executable, str(MPY / script)], capture_output=True, text=True, timeout=60,
                            env=env, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
