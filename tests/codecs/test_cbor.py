"""tingcodec.cbor against RFC 8949 Appendix A and against cbor2, over generated values."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent / "mpy"))  # data shared with the MicroPython test
from rfc8949_examples import EXAMPLES, MALFORMED  # noqa: E402
from tingcodec import cbor


def same(a: object, b: object) -> bool:
    """Equality that treats NaN as equal to NaN and tells 0.0 from -0.0."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize(("hex_", "value", "how"), EXAMPLES, ids=[e[0][:24] for e in EXAMPLES])
def test_rfc8949_appendix_a(hex_: str, value: object, how: str) -> None:
    data = bytes.fromhex(hex_)
    if how == "unsupported":
        with pytest.raises(cbor.CBORDecodeError, match="unsupported"):
            cbor.loads(data)
        return
    assert same(cbor.loads(data), value)
    assert same(cbor2.loads(data), value)
    if how == "both":
        assert cbor.dumps(value) == data
        assert cbor2.dumps(value, canonical=True) == data


@pytest.mark.parametrize(("hex_", "why"), MALFORMED, ids=[m[1] for m in MALFORMED])
def test_malformed_input_raises_the_one_error(hex_: str, why: str) -> None:
    with pytest.raises(cbor.CBORDecodeError):
        cbor.loads(bytes.fromhex(hex_))


def test_error_is_a_value_error_and_input_must_be_bytes() -> None:
    assert issubclass(cbor.CBORDecodeError, ValueError)
    with pytest.raises(cbor.CBORDecodeError, match="expected bytes"):
        cbor.loads("00")  # type: ignore[arg-type]


def test_nesting_limit_is_exact() -> None:
    ok = bytes([0x81] * cbor.MAX_DEPTH) + b"\x00"
    assert cbor.loads(ok) is not None
    with pytest.raises(cbor.CBORDecodeError, match="nesting"):
        cbor.loads(bytes([0x81] * (cbor.MAX_DEPTH + 1)) + b"\x00")


def test_encoder_refuses_unknown_types() -> None:
    with pytest.raises(cbor.CBOREncodeError):
        cbor.dumps({1, 2})


leaves = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**64) - 5, max_value=2**64 + 5)
    | st.floats(allow_nan=True) | st.text(max_size=8) | st.binary(max_size=8)
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.integers(-300, 300) | st.text(max_size=4), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_dumps_is_byte_identical_to_cbor2_canonical(value: object) -> None:
    ours = cbor.dumps(value)
    assert ours == cbor2.dumps(value, canonical=True)
    assert same(cbor.loads(ours), value)
    assert same(cbor2.loads(ours), value)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=24))
def test_decoders_agree_on_arbitrary_bytes(data: bytes) -> None:
    """Whatever our strict decoder accepts, cbor2 decodes to the same value."""
    try:
        ours = cbor.loads(data)
    except cbor.CBORDecodeError:
        return
    assert same(cbor2.loads(data), ours)


@settings(max_examples=300, deadline=None)
@given(values, st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=3),
       st.integers(0, 200))
def test_decoders_agree_on_mutated_encodings(value: object, flips: list, cut: int) -> None:
    """Near-valid input (a valid encoding with bytes changed or cut off) exercises the strict paths."""
    data = bytearray(cbor2.dumps(value, canonical=True))
    for at, byte in flips:
        data[at % len(data)] = byte
    data = bytes(data[: max(1, cut)])
    try:
        ours = cbor.loads(data)
    except cbor.CBORDecodeError:
        return
    assert same(cbor2.loads(data), ours)
