# Look-ups over the catalogue for the bridge, the control plane and the CLI.

from . import catalogue
from .errors import CodecError

_ALIASES = {"fill-level": "fill_level"}


def _index():
    by_name = {}
    by_port = {}
    for device, messages in catalogue.MESSAGES.items():
        by_name[device] = {msg["name"]: msg for msg in messages}
        by_port[device] = {"up": {}, "down": {}}
        for msg in messages:
            by_port[device][msg["direction"]][msg["fport"]] = msg
    return by_name, by_port


_BY_NAME, _BY_PORT = _index()


def device_types():
    """The canonical device type names."""
    return catalogue.DEVICE_TYPES


def device_type(name):
    """Canonical device type name (accepts the alias fill-level); CodecError if unknown."""
    if type(name) is not str:
        raise CodecError("device type must be a string")
    canonical = _ALIASES.get(name, name)
    if canonical not in _BY_NAME:
        raise CodecError("unknown device type %r (known: %s)" % (name, ", ".join(catalogue.DEVICE_TYPES)))
    return canonical


def _check_direction(direction):
    if direction not in ("up", "down"):
        raise CodecError("direction must be 'up' or 'down', not %r" % (direction,))


def message_names(device, direction=None):
    """Names of the device type's messages, in catalogue order; direction 'up'/'down' filters."""
    if direction is not None:
        _check_direction(direction)
    return [msg["name"] for msg in catalogue.MESSAGES[device_type(device)]
            if direction is None or msg["direction"] == direction]


def message_spec(device, message):
    """The catalogue entry (a dict with name, direction, fport, fields, doc); CodecError if unknown."""
    names = _BY_NAME[device_type(device)]
    if type(message) is not str or message not in names:
        raise CodecError("unknown message %r for %s (known: %s)" % (message, device, ", ".join(names)))
    return names[message]


def message_for_port(device, fport, direction="up"):
    """The catalogue entry of the message on this fPort and direction; CodecError if none."""
    _check_direction(direction)
    msg = _BY_PORT[device_type(device)][direction].get(fport) if type(fport) is int else None
    if msg is None:
        raise CodecError("no %slink message on fPort %r for %s" % (direction, fport, device))
    return msg


def field_specs(device, message):
    """The field dicts of a message, in wire order."""
    return message_spec(device, message)["fields"]


def output_names(field):
    """Names a field contributes to decoded "fields": the bits of a flags field, else its own name."""
    return field["bits"] if field["kind"] == "flags" else (field["name"],)
