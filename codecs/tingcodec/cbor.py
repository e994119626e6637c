# CBOR (RFC 8949) for MicroPython and CPython, named like cbor2: dumps / loads.
#
# dumps writes preferred serialization: shortest integer and length heads, definite
# lengths, floats in the shortest of half/single/double that keeps the value, map keys
# in length-first order (what cbor2 writes with canonical=True). Integers beyond 64 bits
# become bignums (tags 2/3).
#
# loads is strict: every problem raises CBORDecodeError (a ValueError) -- truncated
# input, trailing bytes, lengths beyond the input, nesting deeper than MAX_DEPTH,
# reserved or invalid initial bytes, invalid UTF-8, duplicate or unhashable map keys,
# and anything outside the data model we use (tags other than bignums, undefined,
# simple values). It accepts indefinite lengths and non-shortest heads: both are valid.

import struct

MAX_DEPTH = 16

_BREAK = object()  # marker returned for the 0xff "break" byte


class CBORDecodeError(ValueError):
    pass


class CBOREncodeError(ValueError):
    pass


# ---------------------------------------------------------------- encoding

def _head(out, major, n):
    mt = major << 5
    if n < 24:
        out.append(mt | n)
    elif n < 0x100:
        out.append(mt | 24)
        out.append(n)
    elif n < 0x10000:
        out.append(mt | 25)
        out.extend(n.to_bytes(2, "big"))
    elif n < 0x100000000:
        out.append(mt | 26)
        out.extend(n.to_bytes(4, "big"))
    else:
        out.append(mt | 27)
        out.extend(n.to_bytes(8, "big"))


def _float(out, value):
    if value != value:  # NaN: the canonical quiet NaN in half precision
        out.extend(b"\xf9\x7e\x00")
        return
    for code, fmt in ((0xF9, ">e"), (0xFA, ">f")):
        try:
            packed = struct.pack(fmt, value)
        except (OverflowError, ValueError):
            continue
        if struct.unpack(fmt, packed)[0] == value:
            out.append(code)
            out.extend(packed)
            return
    out.append(0xFB)
    out.extend(struct.pack(">d", value))


def _encode(out, obj, depth):
    if depth > MAX_DEPTH:
        raise CBOREncodeError("nesting deeper than %d" % MAX_DEPTH)
    if obj is None:
        out.append(0xF6)
    elif obj is True:
        out.append(0xF5)
    elif obj is False:
        out.append(0xF4)
    elif isinstance(obj, int):
        if obj >= 0:
            major, n = 0, obj
        else:
            major, n = 1, -1 - obj
        if n < 0x10000000000000000:
            _head(out, major, n)
        else:  # bignum: tag 2 (positive) or 3 (negative) around the big-endian magnitude
            out.append(0xC2 + major)
            size = 0  # MicroPython ints have no bit_length()
            rest = n
            while rest:
                rest >>= 8
                size += 1
            _head(out, 2, size)
            out.extend(n.to_bytes(size, "big"))
    elif isinstance(obj, float):
        _float(out, obj)
    elif isinstance(obj, str):
        raw = obj.encode("utf-8")
        _head(out, 3, len(raw))
        out.extend(raw)
    elif isinstance(obj, (bytes, bytearray)):
        _head(out, 2, len(obj))
        out.extend(obj)
    elif isinstance(obj, (list, tuple)):
        _head(out, 4, len(obj))
        for item in obj:
            _encode(out, item, depth + 1)
    elif isinstance(obj, dict):
        pairs = []
        for key in obj:
            encoded_key = bytearray()
            _encode(encoded_key, key, depth + 1)
            pairs.append((len(encoded_key), bytes(encoded_key), obj[key]))
        pairs.sort(key=lambda pair: (pair[0], pair[1]))
        _head(out, 5, len(pairs))
        for _, encoded_key, value in pairs:
            out.extend(encoded_key)
            _encode(out, value, depth + 1)
    else:
        raise CBOREncodeError("cannot encode %s" % type(obj).__name__)


def dumps(obj):
    """Encode obj (None, bool, int, float, str, bytes, list/tuple, dict) as CBOR bytes."""
    out = bytearray()
    _encode(out, obj, 0)
    return bytes(out)


# ---------------------------------------------------------------- decoding

def _need(data, pos, count):
    if pos + count > len(data):
        raise CBORDecodeError("truncated input: need %d bytes at offset %d" % (count, pos))


def _argument(data, pos, info):
    # -> (argument, new position) for additional information 0..27
    if info < 24:
        return info, pos
    if info > 27:
        raise CBORDecodeError("reserved additional information %d at offset %d" % (info, pos - 1))
    size = 1 << (info - 24)
    _need(data, pos, size)
    return int.from_bytes(data[pos:pos + size], "big"), pos + size


def _string(data, pos, major, info, depth):
    if info == 31:  # indefinite length: definite chunks of the same major type until break
        chunks = []
        while True:
            _need(data, pos, 1)
            ib = data[pos]
            if ib == 0xFF:
                pos += 1
                break
            if ib >> 5 != major or ib & 31 == 31:
                raise CBORDecodeError("invalid chunk in indefinite-length string at offset %d" % pos)
            chunk, pos = _string(data, pos + 1, major, ib & 31, depth)
            chunks.append(chunk)
        return (b"" if major == 2 else "").join(chunks), pos
    length, pos = _argument(data, pos, info)
    _need(data, pos, length)
    raw = bytes(data[pos:pos + length])
    if major == 3:
        try:
            raw = raw.decode("utf-8")
        except UnicodeError:
            raise CBORDecodeError("invalid UTF-8 in text string at offset %d" % pos) from None
    return raw, pos + length


def _map_key(key, pos):
    if isinstance(key, (list, dict)):
        raise CBORDecodeError("unhashable map key at offset %d" % pos)
    return key


def _decode(data, pos, depth):
    if depth > MAX_DEPTH:
        raise CBORDecodeError("nesting deeper than %d" % MAX_DEPTH)
    _need(data, pos, 1)
    start = pos
    ib = data[pos]
    pos += 1
    major = ib >> 5
    info = ib & 31
    if major == 0 or major == 1:
        if info == 31:
            raise CBORDecodeError("invalid initial byte 0x%02x at offset %d" % (ib, start))
        n, pos = _argument(data, pos, info)
        return (n if major == 0 else -1 - n), pos
    if major == 2 or major == 3:
        return _string(data, pos, major, info, depth)
    if major == 4 or major == 5:
        indefinite = info == 31
        if not indefinite:
            count, pos = _argument(data, pos, info)
            # every item takes at least one byte: refuse counts the input cannot hold
            if count * (major - 3) > len(data) - pos:
                raise CBORDecodeError("length %d beyond the input at offset %d" % (count, start))
        if major == 4:
            items = []
            while indefinite or len(items) < count:
                item, pos = _decode(data, pos, depth + 1)
                if item is _BREAK:
                    if indefinite:
                        break
                    raise CBORDecodeError("unexpected break at offset %d" % (pos - 1))
                items.append(item)
            return items, pos
        result = {}
        seen = 0
        while indefinite or seen < count:
            key_at = pos
            key, pos = _decode(data, pos, depth + 1)
            if key is _BREAK:
                if indefinite:
                    break
                raise CBORDecodeError("unexpected break at offset %d" % key_at)
            key = _map_key(key, key_at)
            value, pos = _decode(data, pos, depth + 1)
            if value is _BREAK:
                raise CBORDecodeError("break instead of a map value at offset %d" % (pos - 1))
            if key in result:
                raise CBORDecodeError("duplicate map key at offset %d" % key_at)
            result[key] = value
            seen += 1
        return result, pos
    if major == 6:
        tag, pos = _argument(data, pos, info) if info != 31 else (None, pos)
        if tag == 2 or tag == 3:
            _need(data, pos, 1)
            if data[pos] >> 5 != 2:
                raise CBORDecodeError("bignum tag without a byte string at offset %d" % start)
            raw, pos = _decode(data, pos, depth + 1)
            n = int.from_bytes(raw, "big") if raw else 0
            return (n if tag == 2 else -1 - n), pos
        raise CBORDecodeError("unsupported tag at offset %d" % start)
    # major 7: simple values and floats
    if info == 20:
        return False, pos
    if info == 21:
        return True, pos
    if info == 22:
        return None, pos
    if info == 25 or info == 26 or info == 27:
        size = 1 << (info - 24)
        _need(data, pos, size)
        fmt = ">e" if size == 2 else ">f" if size == 4 else ">d"
        return struct.unpack(fmt, bytes(data[pos:pos + size]))[0], pos + size
    if info == 31:
        return _BREAK, pos
    if info == 24:
        _need(data, pos, 1)
        if data[pos] < 32:
            raise CBORDecodeError("invalid two-byte simple value at offset %d" % start)
    if info > 27:
        raise CBORDecodeError("reserved initial byte 0x%02x at offset %d" % (ib, start))
    raise CBORDecodeError("unsupported simple value 0x%02x at offset %d" % (ib, start))


def loads(data):
    """Decode exactly one CBOR data item from bytes; raise CBORDecodeError if anything is wrong."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CBORDecodeError("expected bytes, got %s" % type(data).__name__)
    value, pos = _decode(data, 0, 0)
    if value is _BREAK:
        raise CBORDecodeError("unexpected break at offset 0")
    if pos != len(data):
        raise CBORDecodeError("%d trailing bytes after the data item" % (len(data) - pos))
    return value
