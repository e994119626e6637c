"""Runs every tests/lorawan/mpy/mpy_*.py under the real MicroPython AND under CPython."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, assert_micropython_ok, run_micropython

SCRIPTS = sorted((Path(__file__).parent / "mpy").glob("mpy_*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_under_micropython(script: Path) -> None:
    result = run_micropython(script, timeout=120)
    assert_micropython_ok(result)
    assert " 0 failed" in result.stdout


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_under_cpython(script: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(ROOT / p) for p in ("firmware", "tests/mpylib")))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed" in result.stdout
