"""Run the firmware's MicroPython test scripts under the real `micropython` unix port."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_micropython_ok, run_micropython

MPY_DIR = Path(__file__).parent / "mpy"
SCRIPTS = sorted(p.name for p in MPY_DIR.glob("mpy_*.py"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_micropython_script(script: str) -> None:
    result = run_micropython(MPY_DIR / script, timeout=60, heap="512K")
    assert_micropython_ok(result)
    assert " 0 failed" in result.stdout
