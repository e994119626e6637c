# tingcodec: the Tingbro message catalogue, compact CBOR, encode/decode.
# Runs on MicroPython (the device) and CPython (the bridge); see codecs/README.md.
#
#   fport, payload = tingcodec.encode("fill_level", "status", {...})
#   tingcodec.decode(fport, payload, "fill_level", direction="up")
#   -> {"message": "status", "fields": {...}}
#   tingcodec.CodecError is the one error type (a ValueError).

from . import catalogue, cbor
from .crc import crc16
from .decoder import cbor_backend, decode, set_cbor_backend
from .encoder import encode, encode_items
from .errors import CodecError
from .lookup import (
                     device_type,
                     device_types,
                     field_specs,
                     message_for_port,
                     message_names,
                     message_spec,
                     output_names,
)

__all__ = ["catalogue", "cbor", "crc16", "cbor_backend", "decode", "set_cbor_backend", "encode", "encode_items",
           "CodecError", "device_type", "device_types", "field_specs", "message_for_port", "message_names",
           "message_spec", "output_names"]
