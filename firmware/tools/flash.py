"""`make flash PORT=/dev/ttyUSB0 CONFIG=bin-0042.json [DEVICE=fill_level]`: install the bundle and a config.

Validates the config with the firmware's own validator first (a bad file never reaches a
board), then copies build/firmware (lib/*.mpy, main.py) and the config as /config.json with
mpremote, one step per package with a progress line, and resets the board. `--dry-run`
prints the mpremote commands instead of running them. Keys are never printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "firmware"))
sys.path.insert(0, str(ROOT / "codecs"))

from tingfw import boards, config  # noqa: E402  (pure modules, CPython-compatible)

BUNDLE = ROOT / "build" / "firmware"


class FlashError(Exception):
    pass


def check_config(path: Path, device: str | None) -> dict:
    try:
        text = path.read_text()
    except OSError:
        raise FlashError(f"cannot read config {path}") from None
    try:
        cfg = config.load(text, boards.board_names())
    except config.ConfigError as exc:
        raise FlashError(f"{path}: {exc.message} (the board would blink {exc.blink_code} times)") from None
    if device and device.replace("-", "_") != cfg["device"]:
        raise FlashError(f"{path} is for a {cfg['device']} device, not {device}")
    return cfg


def plan(port: str, config_path: Path) -> list[tuple[str, list[str]]]:
    """The steps: (progress label, mpremote arguments)."""
    manifest_path = BUNDLE / "manifest.json"
    if not manifest_path.exists():
        raise FlashError("no firmware bundle: run `make firmware` first")
    manifest = json.loads(manifest_path.read_text())
    connect = ["connect", port]
    folders = sorted({str(Path(entry["path"]).parent) for entry in manifest["files"]} - {"."})
    steps: list[tuple[str, list[str]]] = []
    mkdirs: list[str] = []
    for folder in folders:
        for index in range(1, len(Path(folder).parts) + 1):
            part = "/".join(Path(folder).parts[:index])
            if part not in mkdirs:
                mkdirs.append(part)
    make_dirs = connect + ["exec", "import os\nfor d in %r:\n try: os.mkdir(d)\n except OSError: pass" %
                           ["/" + d for d in mkdirs]]
    steps.append(("folders", make_dirs))
    packages: dict[str, list[str]] = {}
    for entry in manifest["files"]:
        package = entry["path"].split("/")[1] if entry["path"].startswith("lib/") else "main.py"
        packages.setdefault(package, []).append(entry["path"])
    for package, paths in packages.items():
        args = list(connect)
        for path in paths:
            args += ["fs", "cp", str(BUNDLE / path), ":/" + path, "+"]
        steps.append((f"{package} ({len(paths)} files)", args[:-1]))
    steps.append(("config.json", connect + ["fs", "cp", str(config_path), ":/config.json"]))
    steps.append(("reset", connect + ["reset"]))
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make flash", description="install Tingbro on a board over USB")
    parser.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0 (mpremote: u0, a0 work too)")
    parser.add_argument("--config", required=True, type=Path, help="the device's JSON config file")
    parser.add_argument("--device", default=None, help="fill_level | lifebuoy | streetlight: must match the config")
    parser.add_argument("--dry-run", action="store_true", help="print the mpremote commands, do not run them")
    args = parser.parse_args(argv)
    try:
        cfg = check_config(args.config, args.device)
        steps = plan(args.port, args.config)
    except FlashError as exc:
        print(f"make flash: {exc}", file=sys.stderr)
        return 2
    print(f"flashing {cfg['device']} {cfg.get('name') or cfg['dev_eui']} ({cfg['board']}) on {args.port}")
    mpremote = shutil.which("mpremote", path=str(Path(sys.executable).parent)) or shutil.which("mpremote")
    if not mpremote and not args.dry_run:
        print("make flash: mpremote not found: run `make setup`", file=sys.stderr)
        return 2
    for number, (label, step_args) in enumerate(steps, 1):
        print(f"[{number}/{len(steps)}] {label}", flush=True)
        if args.dry_run:
            print("  mpremote " + " ".join(_quote(a) for a in step_args))
            continue
        result = subprocess.run([mpremote or "mpremote", *step_args])
        if result.returncode:
            print(f"make flash: step '{label}' failed (mpremote exit {result.returncode}); "
                  "is the board connected and not in use by another program?", file=sys.stderr)
            return 1
    print("done: the board restarts with the new firmware and config")
    return 0


def _quote(arg: str) -> str:
    return repr(arg) if (" " in arg or "\n" in arg) else arg


if __name__ == "__main__":
    sys.exit(main())
