# Encode a message by name from its fields: validate against the catalogue, scale to
# integers, write one CBOR array. The same checks serve the control plane's validation.

from . import cbor
from .errors import CodecError
from .lookup import device_type, message_spec


def _number(name, value):
    # bool is a subclass of int on CPython: refuse it explicitly.
    if value is True or value is False or not isinstance(value, (int, float)):
        raise CodecError("field %s: expected a number, got %r" % (name, value))
    if isinstance(value, float) and value - value != 0:  # NaN or infinity
        raise CodecError("field %s: %r is not a finite number" % (name, value))
    return value


def _round_half_away(numerator, denominator):
    # integer division rounding half away from zero (denominator > 0)
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def _int_wire(field, value, clamp=False):
    name = field["name"]
    value = _number(name, value)
    if clamp:  # a sensor reading beyond the range is sent as the range end
        value = field["min"] if value < field["min"] else field["max"] if value > field["max"] else value
    if value < field["min"] or value > field["max"]:
        raise CodecError("field %s: %r outside %r..%r %s" % (name, value, field["min"], field["max"],
                                                            field["unit"]))
    if isinstance(value, int):
        return _round_half_away(value * field["scale"], field["step"])
    scaled = value * field["scale"] / field["step"]
    wire = int(abs(scaled) + 0.5)
    return wire if scaled >= 0 else -wire


def _flags_wire(field, fields, used):
    wire = 0
    for i, bit in enumerate(field["bits"]):
        if bit in fields:
            used.append(bit)
            value = fields[bit]
            if value is not True and value is not False:
                raise CodecError("field %s: expected true or false, got %r" % (bit, value))
            if value:
                wire |= 1 << i
    return wire


def _enum_wire(name, values, value):
    if type(value) is not str or value not in values:
        raise CodecError("field %s: %r is not one of %s" % (name, value, ", ".join(values)))
    return values.index(value)


def _list_wire(field, value):
    name = field["name"]
    if not isinstance(value, (list, tuple)):
        raise CodecError("field %s: expected a list" % name)
    if len(value) < field["min_items"] or len(value) > field["max_items"]:
        raise CodecError("field %s: %d items, allowed %d..%d" % (name, len(value), field["min_items"],
                                                                 field["max_items"]))
    items = []
    for entry in value:
        if not isinstance(entry, dict):
            raise CodecError("field %s: each item must be an object" % name)
        packed = 0
        shift = 0
        for sub in field["item"]:
            sub_name = sub["name"]
            if sub_name not in entry:
                raise CodecError("field %s: item lacks %s" % (name, sub_name))
            sub_value = entry[sub_name]
            if "values" in sub:
                stored = _enum_wire(sub_name, sub["values"], sub_value)
            else:
                if type(sub_value) is not int or sub_value < sub["min"] or sub_value > sub["max"]:
                    raise CodecError("field %s: %s must be an integer in %d..%d, got %r"
                                     % (name, sub_name, sub["min"], sub["max"], sub_value))
                stored = sub_value - sub["min"]
            packed |= stored << shift
            shift += sub["width"]
        for key in entry:
            if not any(sub["name"] == key for sub in field["item"]):
                raise CodecError("field %s: unknown item key %r" % (name, key))
        items.append(packed)
    return items


def _field_wire(field, fields, used, clamp):
    kind = field["kind"]
    if kind == "flags":
        return _flags_wire(field, fields, used)
    name = field["name"]
    used.append(name)
    value = fields[name]
    if kind == "int":
        return _int_wire(field, value, clamp)
    if kind == "enum":
        return _enum_wire(name, field["values"], value)
    return _list_wire(field, value)


def _present(field, fields):
    if field["kind"] == "flags":
        return any(bit in fields for bit in field["bits"])
    return field["name"] in fields


def encode_items(device, message, fields, clamp=False):
    """Validate fields and return (fport, list of wire items) without serializing."""
    msg = message_spec(device_type(device), message)
    if not isinstance(fields, dict):
        raise CodecError("fields must be an object")
    specs = msg["fields"]
    # trailing optional fields that were not given are left out of the array
    count = len(specs)
    while count and specs[count - 1]["optional"] and not _present(specs[count - 1], fields):
        count -= 1
    items = []
    used = []
    for field in specs[:count]:
        if field["kind"] == "flags" or field["name"] in fields:
            items.append(_field_wire(field, fields, used, clamp))
        elif field["optional"]:
            items.append(_int_wire(field, field["default"]))
        else:
            raise CodecError("message %s: missing field %s" % (message, field["name"]))
    for key in fields:
        if key not in used:
            raise CodecError("message %s: unknown field %r" % (message, key))
    return msg["fport"], items


def encode(device, message, fields, clamp=False):
    """Encode a message by name -> (fport, payload bytes); CodecError on bad input.

    clamp=True (for a device's own readings) sends a number beyond a field's range as the
    range end instead of refusing it; commands are validated strictly (the default)."""
    fport, items = encode_items(device, message, fields, clamp)
    return fport, cbor.dumps(items)
