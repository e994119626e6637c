# Decode payloads of the catalogue's messages.
#
# Decoders are compiled once per message at import (a list of small converter closures),
# so decoding is one CBOR parse plus a loop over the fields. On CPython the CBOR parse
# uses cbor2's C decoder when it is installed; set_cbor_backend("pure") switches to
# tingcodec.cbor (always available, the only one on MicroPython).
#
# A payload must be exactly what our encoders write (RFC 8949 preferred serialization):
# after decoding, it is re-encoded and compared, which rejects trailing bytes and
# non-shortest heads the same way in both backends.

from . import catalogue, cbor
from .errors import CodecError
from .lookup import device_type

_BACKEND = {"loads": cbor.loads, "dumps": cbor.dumps, "name": "pure"}


def set_cbor_backend(name):
    """Choose "cbor2" (CPython C decoder) or "pure" (tingcodec.cbor); returns the previous name."""
    previous = _BACKEND["name"]
    if name == "pure":
        _BACKEND["loads"] = cbor.loads
        _BACKEND["dumps"] = cbor.dumps
    elif name == "cbor2":
        import cbor2  # noqa: PLC0415 - optional, CPython only

        _BACKEND["loads"] = cbor2.loads
        _BACKEND["dumps"] = _cbor2_canonical(cbor2)
    else:
        raise CodecError("unknown CBOR backend %r" % (name,))
    _BACKEND["name"] = name
    return previous


def _cbor2_canonical(cbor2):
    def dumps(obj):
        return cbor2.dumps(obj, canonical=True)
    return dumps


def cbor_backend():
    return _BACKEND["name"]


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


def _compile_decoder(msg):
    converters = tuple(_DECODER_MAKERS[field["kind"]](field) for field in msg["fields"])
    required = sum(1 for field in msg["fields"] if not field["optional"])
    known = len(converters)
    name = msg["name"]

    def decode_items(items):
        if type(items) is not list:
            raise CodecError("message %s: payload is not a CBOR array" % name)
        count = len(items)
        if count < required:
            raise CodecError("message %s: %d fields, at least %d required" % (name, count, required))
        fields = {}
        for i in range(count if count < known else known):
            converters[i](items[i], fields)  # items beyond `known` are newer fields: ignored
        return {"message": name, "fields": fields}
    return decode_items


def _build_decoders():
    by_port = {}
    for device, messages in catalogue.MESSAGES.items():
        ports = {"up": {}, "down": {}}
        for msg in messages:
            ports[msg["direction"]][msg["fport"]] = _compile_decoder(msg)
        by_port[device] = ports
    return by_port


_BY_PORT = _build_decoders()


def decode(fport, payload, device, direction="up"):
    """Decode an application payload -> {"message": name, "fields": {...}}; CodecError on bad input."""
    ports = _BY_PORT[device_type(device)]
    if direction not in ports:
        raise CodecError("direction must be 'up' or 'down', not %r" % (direction,))
    decoder = ports[direction].get(fport) if type(fport) is int else None
    if decoder is None:
        raise CodecError("no %slink message on fPort %r for %s" % (direction, fport, device))
    if not isinstance(payload, (bytes, bytearray)):
        raise CodecError("payload must be bytes")
    try:
        items = _BACKEND["loads"](payload)
    except Exception as exc:  # cbor2 raises its own error types; all mean "malformed"
        raise CodecError("malformed CBOR: %s" % exc) from None
    result = decoder(items)
    try:
        canonical = _BACKEND["dumps"](items)
    except Exception:
        canonical = None
    if canonical != payload:
        raise CodecError("payload is not in preferred serialization (trailing or non-shortest bytes)")
    return result
