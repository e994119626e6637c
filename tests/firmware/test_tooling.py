"""make firmware / make flash / package.json: the technician's tooling, tested without a board."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, assert_micropython_ok, run_micropython

sys.path.insert(0, str(ROOT / "firmware" / "tools"))
import bundle  # noqa: E402
import flash  # noqa: E402

APP_KEY = "2b7e151628aed2a6abf7158809cf4f3c"
CONFIG = {"device": "lifebuoy", "name": "buoy-nyhavn-3", "dev_eui": "70B3D57ED0000007",
          "join_eui": "70b3d57ed0000000", "app_key": APP_KEY, "board": "pico_waveshare_sx1262",
          "intervals": {"heartbeat_interval_s": 43200}}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("firmware")
    return out, bundle.build(out)


def test_bundle_has_every_device_module_and_no_host_module(built: tuple[Path, dict]) -> None:
    out, manifest = built
    paths = {entry["path"] for entry in manifest["files"]}
    for relative, _source in bundle.device_sources():
        assert "lib/" + relative.replace(".py", ".mpy") in paths
    for host_only in bundle.HOST_ONLY:
        assert "lib/" + host_only.replace(".py", ".mpy") not in paths
    assert not [p for p in paths if p.startswith("lib/tingsim/")]  # the host simulation is no package of the bundle
    assert "main.py" in paths and (out / "main.py").exists()
    assert set(manifest["by_package"]) == {"tingcodec", "loraphy", "lorawan", "tingfw", "main"}
    assert manifest["mpy_bytes"] <= 96 * 1024  # the size budget for the whole bundle


def test_compiled_bundle_runs_under_micropython(built: tuple[Path, dict]) -> None:
    out, _ = built
    script = (
        "import sys\n"
        "sys.path[:] = ['%s']\n"  # only the bundle: no .py source can sneak in
        "import tingcodec, lorawan, tingfw.main, tingfw.apps.fill_level, tingfw.apps.lifebuoy\n"
        "import tingfw.apps.streetlight\n"
        "assert tingfw.apps.fill_level.__file__.endswith('.mpy'), tingfw.apps.fill_level.__file__\n"
        "print(tingcodec.encode('lifebuoy', 'presence', {'present': False, 'tamper': False, 'event_seq': 1}))\n"
    ) % (out / "lib")
    result = run_micropython(script)
    assert_micropython_ok(result)
    assert result.stdout.strip() == "(10, b'\\x82\\x00\\x01')"


def test_package_json_lists_the_bundle_sources_and_is_current() -> None:
    package = json.loads((ROOT / "firmware" / "package.json").read_text())
    assert package == bundle.package_json(), "firmware/package.json is stale: run `make firmware`"
    for destination, url in package["urls"]:
        assert (ROOT / "firmware" / url).resolve().is_file(), url
        assert destination.split("/")[0] in bundle.PACKAGES
    assert ["lora-sx126x", "latest"] in package["deps"]


def _flash(tmp_path: Path, cfg: dict, *extra: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "device.json"
    path.write_text(json.dumps(cfg))
    return subprocess.run([sys.executable, str(ROOT / "firmware" / "tools" / "flash.py"), "--port", "/dev/ttyACM0",
                           "--config", str(path), "--dry-run", *extra], capture_output=True, text=True, timeout=60)


def test_flash_dry_run_plans_every_file_then_config_then_reset(tmp_path: Path, built: tuple[Path, dict]) -> None:
    subprocess.run([sys.executable, str(ROOT / "firmware" / "tools" / "bundle.py")], check=True, capture_output=True)
    result = _flash(tmp_path, CONFIG, "--device", "lifebuoy")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "flashing lifebuoy buoy-nyhavn-3 (pico_waveshare_sx1262) on /dev/ttyACM0"
    progress = [line for line in lines if line.startswith("[")]
    assert progress[-2:] == ["[7/8] config.json", "[8/8] reset"]  # one step per package (loraphy too)
    manifest = json.loads((ROOT / "build" / "firmware" / "manifest.json").read_text())
    commands = "\n".join(line for line in lines if line.startswith("  mpremote"))
    for entry in manifest["files"]:
        assert ":/" + entry["path"] in commands, entry["path"]
    assert ":/config.json" in commands
    assert APP_KEY not in result.stdout and APP_KEY not in result.stderr


def test_flash_refuses_a_bad_config_with_one_line(tmp_path: Path) -> None:
    result = _flash(tmp_path, dict(CONFIG, app_key=APP_KEY[:30]))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "app_key must be 32 hex digits" in result.stderr and "blink 4 times" in result.stderr
    assert APP_KEY[:30] not in result.stderr


def test_flash_refuses_a_config_for_another_device_type(tmp_path: Path) -> None:
    result = _flash(tmp_path, CONFIG, "--device", "streetlight")
    assert result.returncode == 2 and "is for a lifebuoy device, not streetlight" in result.stderr


def test_flash_plan_needs_a_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flash, "BUNDLE", tmp_path / "missing")
    with pytest.raises(flash.FlashError, match="make firmware"):
        flash.plan("/dev/ttyUSB0", tmp_path / "x.json")
