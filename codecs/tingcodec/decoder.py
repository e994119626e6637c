# Decode payloads of the catalogue's messages.
#
# Each message gets a decoder compiled from the catalogue (a list of small converter
# closures), so decoding is one CBOR parse plus a loop over the fields. On CPython the
# CBOR parse uses cbor2's C decoder when it is installed (set_cbor_backend("pure")
# switches to tingcodec.cbor, the only one on MicroPython), and fastdecode.py generates a
# faster decoder per message in front of the reference one.
#
# A payload must be exactly what our encoders write (RFC 8949 preferred serialization):
# after decoding, it is re-encoded and compared, which rejects trailing bytes and
# non-shortest heads the same way in both backends.

import sys

from . import catalogue, cbor
from .errors import CodecError
from .lookup import device_type, message_for_port

_BACKEND = {"loads": cbor.loads, "name": "pure"}
_loads = cbor.loads  # the hot path reads this global rather than the dict


def set_cbor_backend(name):
    """Choose "cbor2" (CPython C decoder) or "pure" (tingcodec.cbor); returns the previous name."""
    previous = _BACKEND["name"]
    if name == "pure":
        _BACKEND["loads"] = cbor.loads
    elif name == "cbor2":
        import cbor2  # noqa: PLC0415 - optional, CPython only

        _BACKEND["loads"] = cbor2.loads
    else:
        raise CodecError("unknown CBOR backend %r" % (name,))
    _BACKEND["name"] = name
    global _loads
    _loads = _BACKEND["loads"]
    return previous


def cbor_backend():
    return _BACKEND["name"]


# Generated decoders and cbor2 on CPython only. MicroPython keeps the closures (no
# compiler RAM spent) and never picks up micropython-lib's lenient cbor2 module.
USE_GENERATED = sys.implementation.name == "cpython"

if USE_GENERATED:
    try:
        set_cbor_backend("cbor2")
    except ImportError:
        pass


def _wire_bounds(field):
    return (field["min"] * field["scale"]) // field["step"], (field["max"] * field["scale"]) // field["step"]


def _int_decoder(field):
    name = field["name"]
    lo, hi = _wire_bounds(field)
    scale = field["scale"]
    step = field["step"]

    def convert(w, out):
        if type(w) is not int or w < lo or w > hi:
            raise CodecError("field %s: wire value %r not an integer in %d..%d" % (name, w, lo, hi))
        if scale == 1:
            out[name] = w * step
        else:
            num = w * step
            out[name] = num // scale if num % scale == 0 else num / scale
    return convert


def _flags_decoder(field):
    bits = tuple(enumerate(field["bits"]))
    name = field["name"]

    def convert(w, out):
        if type(w) is not int or w < 0 or w > 0xFFFFFFFF:
            raise CodecError("field %s: flags %r not an integer in 0..4294967295" % (name, w))
        for i, bit in bits:
            out[bit] = (w >> i) & 1 == 1
    return convert


def _enum_decoder(field):
    name = field["name"]
    values = field["values"]
    count = len(values)

    def convert(w, out):
        if type(w) is not int or w < 0 or w >= count:
            raise CodecError("field %s: enum value %r not in 0..%d" % (name, w, count - 1))
        out[name] = values[w]
    return convert


def _item_layout(item):
    # -> tuple of (name, shift, mask, min, max, values or None), total width in bits
    layout = []
    shift = 0
    for sub in item:
        layout.append((sub["name"], shift, (1 << sub["width"]) - 1, sub["min"], sub["max"], sub.get("values")))
        shift += sub["width"]
    return tuple(layout), shift


def _list_decoder(field):
    name = field["name"]
    layout, width = _item_layout(field["item"])
    limit = 1 << width
    lo_items = field["min_items"]
    hi_items = field["max_items"]

    def convert(w, out):
        if type(w) is not list or len(w) < lo_items or len(w) > hi_items:
            raise CodecError("field %s: expected an array of %d..%d items" % (name, lo_items, hi_items))
        items = []
        for packed in w:
            if type(packed) is not int or packed < 0 or packed >= limit:
                raise CodecError("field %s: item %r not an integer in 0..%d" % (name, packed, limit - 1))
            entry = {}
            for sub_name, shift, mask, lo, hi, values in layout:
                value = ((packed >> shift) & mask) + lo
                if value > hi:
                    raise CodecError("field %s: %s %d above %d" % (name, sub_name, value, hi))
                entry[sub_name] = values[value] if values else value
            items.append(entry)
        out[name] = items
    return convert


_DECODER_MAKERS = {"int": _int_decoder, "flags": _flags_decoder, "enum": _enum_decoder, "list": _list_decoder}


def _compile_decoder(msg, generated):
    converters = tuple(_DECODER_MAKERS[field["kind"]](field) for field in msg["fields"])
    required = sum(1 for field in msg["fields"] if not field["optional"])
    known = len(converters)
    name = msg["name"]

    def decode_items(items, payload):
        if type(items) is not list:
            raise CodecError("message %s: payload is not a CBOR array" % name)
        count = len(items)
        if count < required:
            raise CodecError("message %s: %d fields, at least %d required" % (name, count, required))
        fields = {}
        for i in range(count if count < known else known):
            converters[i](items[i], fields)  # items beyond `known` are newer fields: ignored
        try:  # our own encoder, whatever parsed: it also refuses what our loads refuses
            canonical = cbor.dumps(items)
        except cbor.CBOREncodeError:
            canonical = None
        if canonical != payload:
            raise CodecError("payload is not in preferred serialization (trailing or non-shortest bytes)")
        return {"message": name, "fields": fields}
    if generated:
        from .fastdecode import compile_fast  # noqa: PLC0415 - CPython only

        return compile_fast(msg, converters, decode_items)
    return decode_items


def build_decoders(generated=USE_GENERATED):
    """(device, direction, fport) -> decoder(items, payload) for every message.
    generated=False gives the reference (closure) decoders, as on MicroPython."""
    flat = {}
    for device, messages in catalogue.MESSAGES.items():
        for msg in messages:
            flat[(device, msg["direction"], msg["fport"])] = _compile_decoder(msg, generated)
    return flat


# CPython compiles every decoder up front; MicroPython compiles each on first use, so a
# device spends RAM only on the few messages it actually decodes.
_DECODERS = build_decoders() if USE_GENERATED else {}


def _find_decoder(fport, device, direction):
    # the slow path: aliases, first use on MicroPython, and a clear error for anything unknown
    canonical = device_type(device)
    msg = message_for_port(canonical, fport, direction)
    key = (canonical, direction, msg["fport"])
    decoder = _DECODERS.get(key)
    if decoder is None:
        decoder = _DECODERS[key] = _compile_decoder(msg, USE_GENERATED)
    return decoder


def decode(fport, payload, device, direction="up"):
    """Decode an application payload -> {"message": name, "fields": {...}}; CodecError on bad input."""
    try:
        decoder = _DECODERS.get((device, direction, fport))
    except TypeError:  # an unhashable argument
        decoder = None
    if decoder is None or type(fport) is not int:  # True == 1 would otherwise find fPort 1
        decoder = _find_decoder(fport, device, direction)
    if type(payload) is not bytes:
        if not isinstance(payload, bytearray):
            raise CodecError("payload must be bytes")
        payload = bytes(payload)
    try:
        items = _loads(payload)
    except Exception as exc:  # cbor2 raises its own error types; all mean "malformed"
        raise CodecError("malformed CBOR: %s" % exc) from None
    return decoder(items, payload)
