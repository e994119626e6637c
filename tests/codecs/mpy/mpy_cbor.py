# Runs under the real MicroPython: tingcodec.cbor against RFC 8949 Appendix A and malformed input.

import mpytest
from rfc8949_examples import EXAMPLES, MALFORMED
from tingcodec import cbor


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        if a != a or b != b:
            return a != a and b != b
        return a == b and str(a)[0] == str(b)[0]  # tells -0.0 from 0.0
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(a[i], b[i]) for i in range(len(a)))
    if isinstance(a, dict) and isinstance(b, dict):
        return sorted(a.keys()) == sorted(b.keys()) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def test_appendix_a():
    for hex_, value, how in EXAMPLES:
        data = bytes.fromhex(hex_)
        if how == "unsupported":
            mpytest.raises(cbor.CBORDecodeError, cbor.loads, data)
            continue
        assert _same(cbor.loads(data), value), hex_
        if how == "both":
            assert cbor.dumps(value) == data, (hex_, cbor.dumps(value))


def test_malformed():
    for hex_, _why in MALFORMED:
        mpytest.raises(cbor.CBORDecodeError, cbor.loads, bytes.fromhex(hex_))


def test_error_is_value_error():
    assert issubclass(cbor.CBORDecodeError, ValueError)


mpytest.main(globals())
