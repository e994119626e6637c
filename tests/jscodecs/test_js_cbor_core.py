"""The JS CBOR core (pasted into every generated codec) against cbor2, in QuickJS and node."""

from __future__ import annotations

import json
from pathlib import Path

import cbor2
import pytest
import quickjs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jscodegen import cbor_library_source
from jsharness import normalized, run_node_cases, tree_of

HERE = Path(__file__).resolve().parent
LIBRARY = cbor_library_source() + (HERE / "tree.js").read_text(encoding="utf-8")
SAFE_INT = 2**53 - 1

# RFC 8949 Appendix A examples inside the subset (expected values come from cbor2).
RFC_SUPPORTED = [
    "00", "01", "0a", "17", "1818", "1819", "1864", "1903e8", "1a000f4240", "1b000000e8d4a51000",
    "20", "29", "3863", "3903e7", "f90000", "f98000", "f93c00", "fb3ff199999999999a", "f93e00",
    "f97bff", "fa47c35000", "fa7f7fffff", "fb7e37e43c8800759c", "f90001", "f90400", "f9c400",
    "fbc010666666666666", "f97c00", "f97e00", "f9fc00", "fa7f800000", "fa7fc00000", "faff800000",
    "fb7ff0000000000000", "fb7ff8000000000000", "fbfff0000000000000", "f4", "f5", "f6", "40",
    "4401020304", "60", "6161", "6449455446", "62225c", "62c3bc", "63e6b0b4", "64f0908591", "80",
    "83010203", "8301820203820405", "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
    "a0", "a201020304", "a26161016162820203", "826161a161626163",
    "a56161614161626142616361436164614461656145",
]
# RFC 8949 Appendix A examples outside the subset: big integers, undefined, simple values, tags,
# indefinite lengths. Each must be a clean codec error.
RFC_UNSUPPORTED = [
    "1bffffffffffffffff", "c249010000000000000000", "3bffffffffffffffff", "c349010000000000000000",
    "f7", "f0", "f8ff", "c074323031332d30332d32315432303a30343a30305a", "c11a514b67b0",
    "d74401020304", "d818456449455446", "d82076687474703a2f2f7777772e6578616d706c652e636f6d",
    "5f42010243030405ff", "7f657374726561646d696e67ff", "9fff", "9f018202039f0405ffff",
    "bf61610161629f0203ffff", "bf6346756ef563416d7421ff",
]
MALFORMED = {
    "truncated uint16": "19e8", "truncated text": "6449", "truncated array": "8301", "truncated map": "a101",
    "trailing byte": "0000", "reserved info 28": "1c", "reserved info 30": "5e", "break alone": "ff",
    "length beyond input": "5affffffff00", "array length beyond input": "9bffffffffffffffff",
    "nesting 17 deep": "81" * 17 + "00", "overlong utf-8": "62c0af", "utf-8 surrogate": "63eda080",
    "utf-8 beyond U+10FFFF": "64f4908080", "lone continuation byte": "6180", "duplicate map key": "a2010101",
    "duplicate key int vs text": "a20101613102", "array map key": "a1800102", "empty": "",
    "2^53 unsigned": "1b0020000000000000",
}


@pytest.fixture(scope="module")
def quickjs_cbor():
    context = quickjs.Context()
    context.eval(LIBRARY)
    run_case = context.eval("runCborCase")
    return lambda case: json.loads(run_case(json.dumps(case)))


def js_decode(run_case, data: bytes) -> dict:
    return run_case({"op": "decode", "bytes": list(data)})


@pytest.mark.parametrize("hex_text", RFC_SUPPORTED)
def test_rfc_examples_decode_like_cbor2(quickjs_cbor, hex_text: str) -> None:
    result = js_decode(quickjs_cbor, bytes.fromhex(hex_text))
    assert "ok" in result, result
    assert normalized(result["ok"]) == normalized(tree_of(cbor2.loads(bytes.fromhex(hex_text))))


@pytest.mark.parametrize("hex_text", RFC_UNSUPPORTED + list(MALFORMED.values()),
                         ids=RFC_UNSUPPORTED + list(MALFORMED))
def test_unsupported_and_malformed_input_is_a_codec_error(quickjs_cbor, hex_text: str) -> None:
    result = js_decode(quickjs_cbor, bytes.fromhex(hex_text))
    assert result.get("codecError") is True, result


def test_nesting_limit_is_exactly_16_levels(quickjs_cbor) -> None:
    assert js_decode(quickjs_cbor, bytes.fromhex("81" * 16 + "00"))["ok"][0] == "array"


def test_largest_safe_integers_decode_exactly(quickjs_cbor) -> None:
    for value in (SAFE_INT, -SAFE_INT, 2**32, -(2**32) - 1):
        assert js_decode(quickjs_cbor, cbor2.dumps(value))["ok"] == ["num", value]
    assert js_decode(quickjs_cbor, cbor2.dumps(-SAFE_INT - 1)).get("codecError") is True


@pytest.mark.parametrize("bad", [[256], [-1], [1.5], ["a"], None, [0, None]])
def test_input_that_is_not_a_byte_array_is_a_codec_error(quickjs_cbor, bad) -> None:
    assert quickjs_cbor({"op": "decode", "bytes": bad}).get("codecError") is True


@pytest.mark.parametrize("tree", [["num", 1.5], ["num", 0.1], ["num", 2**53], ["num", -(2**53)],
                                  ["text", "\ud800"], ["array", [["num", 1e300]]]])
def test_encoder_rejects_what_messages_never_carry(quickjs_cbor, tree) -> None:
    assert quickjs_cbor({"op": "encode", "tree": tree}).get("codecError") is True


# Values inside the subset the encoder emits: no floats, ints within +-2^53, text-keyed maps.
encodable = st.recursive(
    st.none() | st.booleans() | st.integers(-SAFE_INT, SAFE_INT) | st.text(max_size=30) | st.binary(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)
# Values the decoder accepts: also floats and integer map keys.
decodable = st.recursive(
    st.none() | st.booleans() | st.integers(-SAFE_INT, SAFE_INT) | st.text(max_size=30) | st.binary(max_size=30)
    | st.floats(allow_nan=True, allow_infinity=True),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.integers(-1000, 1000), children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)


def within_depth(value, depth: int = 0) -> bool:
    if depth > 16:
        return False
    children = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else []
    return all(within_depth(child, depth + 1) for child in children)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(decodable)
def test_quickjs_decodes_what_cbor2_encodes(quickjs_cbor, value) -> None:
    for canonical in (True, False):
        data = cbor2.dumps(value, canonical=canonical)
        result = js_decode(quickjs_cbor, data)
        assert "ok" in result, (data.hex(), result)
        assert normalized(result["ok"]) == normalized(tree_of(cbor2.loads(data)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(encodable)
def test_quickjs_encodes_byte_identical_to_cbor2_canonical(quickjs_cbor, value) -> None:
    result = quickjs_cbor({"op": "encode", "tree": tree_of(value)})
    assert bytes(result["ok"]) == cbor2.dumps(value, canonical=True)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=24))
def test_quickjs_random_bytes_decode_like_cbor2_or_fail_cleanly(quickjs_cbor, data: bytes) -> None:
    result = js_decode(quickjs_cbor, data)
    if "ok" in result:
        assert normalized(result["ok"]) == normalized(tree_of(cbor2.loads(data)))
    else:
        assert result["codecError"] is True, result


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(decodable, min_size=30, max_size=30), st.lists(encodable, min_size=30, max_size=30))
def test_node_decodes_and_encodes_like_cbor2(decode_values, encode_values) -> None:
    cases = [{"op": "decode", "bytes": list(cbor2.dumps(value))} for value in decode_values]
    cases += [{"op": "encode", "tree": tree_of(value)} for value in encode_values]
    new_globals, results = run_node_cases(LIBRARY, [{"expr": f"runCborCase({json.dumps(json.dumps(case))})"}
                                                    for case in cases])
    assert "TingCbor" in new_globals
    for value, result in zip(decode_values, results[:30], strict=True):
        assert normalized(result["ok"]["ok"]) == normalized(tree_of(cbor2.loads(cbor2.dumps(value))))
    for value, result in zip(encode_values, results[30:], strict=True):
        assert bytes(result["ok"]["ok"]) == cbor2.dumps(value, canonical=True)


def is_canonical(data: bytes) -> bool:
    """What tingcodec checks: re-encoding with cbor2 canonical=True gives the same bytes."""
    try:
        return cbor2.dumps(cbor2.loads(data), canonical=True) == data
    except Exception:
        return False


NON_CANONICAL = {
    "uint 19 in 2 bytes": "1813", "uint 255 in 3 bytes": "1900ff", "length 1 in 2 bytes": "58016a",
    "array length in 2 bytes": "980100", "1.5 as double": "fb3ff8000000000000", "1.5 as single": "fa3fc00000",
    "2^-24 as single": "fa33800000", "65504 as single": "fa477fe000", "infinity as double": "fb7ff0000000000000",
    "NaN as single": "fa7fc00000", "NaN with payload": "f97e01", "-0 as double": "fb8000000000000000",
    "map keys unsorted": "a2616201616101", "map keys length-first": "a21818012001",
}
CANONICAL = {
    "1.1 needs double": "fb3ff199999999999a", "100000.0 single": "fa47c35000", "2^-25 single": "fa33000000",
    "smallest double subnormal": "fb0000000000000001", "map -1 before 24": "a22001181801",
}


@pytest.mark.parametrize("hex_text", list(NON_CANONICAL.values()), ids=list(NON_CANONICAL))
def test_strict_decoding_refuses_what_canonical_reencoding_would_change(quickjs_cbor, hex_text: str) -> None:
    data = bytes.fromhex(hex_text)
    assert not is_canonical(data)
    assert "ok" in js_decode(quickjs_cbor, data)
    assert quickjs_cbor({"op": "decode", "bytes": list(data), "strict": True}).get("codecError") is True


@pytest.mark.parametrize("hex_text", list(CANONICAL.values()), ids=list(CANONICAL))
def test_strict_decoding_accepts_canonical_forms(quickjs_cbor, hex_text: str) -> None:
    data = bytes.fromhex(hex_text)
    assert is_canonical(data)
    assert "ok" in quickjs_cbor({"op": "decode", "bytes": list(data), "strict": True})


def without_key_collisions(value) -> bool:
    # JS objects hold map keys as strings: {1: a, "1": b} cannot be told apart (a documented limit).
    if isinstance(value, list):
        return all(without_key_collisions(item) for item in value)
    if isinstance(value, dict):
        return len({str(key) for key in value}) == len(value) and all(map(without_key_collisions, value.values()))
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(decodable.map(lambda value: cbor2.dumps(value, canonical=False)),
                 decodable.map(lambda value: cbor2.dumps(value, canonical=True)),
                 st.binary(max_size=12)))
def test_strict_decoding_accepts_exactly_the_canonical_form(quickjs_cbor, data: bytes) -> None:
    result = quickjs_cbor({"op": "decode", "bytes": list(data), "strict": True})
    try:
        value = cbor2.loads(data)
    except Exception:
        value = None
    if "ok" in result:
        assert is_canonical(data), data.hex()
    elif is_canonical(data) and without_key_collisions(value):
        # cbor2 also takes what the JS subset refuses: tags, undefined/simple values, integers beyond 2^53.
        assert any(reason in result["error"] for reason in ("tag", "simple value", "beyond")), (data.hex(), result)
