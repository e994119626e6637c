"""`make lint` (firmware part): mypy against the MicroPython stubs of each port (esp32 and rp2).

The two stub packages overlap (both ship machine.pyi), so each is installed into its own
folder build/typings/<port> with pip --target (same versions as the venv's) and used as the
whole standard library (custom_typeshed_dir): code that calls something a port does not
have fails here. tingfw's own modules are checked with check_untyped_defs; the MAC, the
codec and the radio adapters at mypy's default level. Any finding at either level fails. Host-only modules are
not part of the device bundle and are left out (see bundle.HOST_ONLY).
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bundle import HOST_ONLY, device_sources  # noqa: E402

PORTS = ("esp32", "rp2")
TYPINGS = ROOT / "build" / "typings"
EXTRA_STUBS = Path(__file__).resolve().parent / "stubs"
OWN_PREFIXES = ("tingfw/",)
OTHERS_EXCLUDED = ("tingfw/radio/",)  # tingfw/radio belongs to the radio engineer: default level


def ensure_typings(port: str) -> Path:
    target = TYPINGS / port
    marker = target / ".installed"
    packages = [f"micropython-{port}-stubs=={metadata.version(f'micropython-{port}-stubs')}",
                f"micropython-stdlib-stubs=={metadata.version('micropython-stdlib-stubs')}"]
    if marker.exists() and marker.read_text() == " ".join(packages):
        return target
    print(f"installing {', '.join(packages)} into {target.relative_to(ROOT)}", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--upgrade", "--target", str(target),
                    *packages], check=True)
    marker.write_text(" ".join(packages))
    return target


def write_config(port: str, typings: Path, strict: bool) -> Path:
    config = TYPINGS / f"mypy-{port}-{'own' if strict else 'others'}.ini"
    config.write_text(
        "[mypy]\n"
        "python_version = 3.11\n"
        f"custom_typeshed_dir = {typings}\n"
        f"mypy_path = {typings}:{EXTRA_STUBS}:{ROOT / 'firmware'}:{ROOT / 'codecs'}\n"
        "follow_imports = silent\n"
        # loraphy is a namespace package (no __init__.py): name modules from the mypy_path roots
        "explicit_package_bases = True\n"
        "no_site_packages = True\n"
        f"check_untyped_defs = {strict}\n"
        "warn_unused_ignores = True\n"
        # CPython-only fallbacks (cbor2 in tingcodec.decoder, cryptography in lorawan.aes): never on a device.
        "[mypy-cbor2,cryptography.*]\nignore_missing_imports = True\n"
        # We check our code against the stubs, not the stubs themselves.
        f"[mypy-{','.join(_stub_modules(typings))}]\nignore_errors = True\n"
    )
    return config


def _stub_modules(typings: Path) -> list[str]:
    names = []
    for entry in sorted(typings.iterdir()):
        if entry.suffix == ".pyi":
            names.append(entry.stem)
        elif entry.is_dir() and not entry.name.startswith(".") and entry.name != "stdlib" and "-" not in entry.name:
            names += [entry.name, entry.name + ".*"]
    return names


def run_port(port: str) -> int:
    typings = ensure_typings(port)
    sources = [(rel, path) for rel, path in device_sources() if rel not in HOST_ONLY]
    own = [str(path) for rel, path in sources if rel.startswith(OWN_PREFIXES) and not rel.startswith(OTHERS_EXCLUDED)]
    own.append(str(ROOT / "firmware" / "main.py"))
    others = [str(path) for rel, path in sources if str(path) not in own]
    failures = 0
    for strict, files in ((True, own), (False, others)):
        config = write_config(port, typings, strict)
        result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir",
                                 str(TYPINGS / f".cache-{port}"), *files], capture_output=True, text=True)
        label = "tingfw (check_untyped_defs)" if strict else "lorawan, tingcodec, tingfw.radio"
        print(f"mypy [{port}] {label}: {result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ''}")
        if result.returncode:
            print(result.stdout, end="")
            failures += 1  # every finding fails the lint, at both levels
    return failures


def main() -> int:
    failures = sum(run_port(port) for port in PORTS)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
