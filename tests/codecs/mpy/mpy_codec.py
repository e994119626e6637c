# Runs under the real MicroPython: every shared vector decodes and encodes exactly,
# and bad input raises CodecError (never IndexError/KeyError/TypeError).
# Usage: micropython mpy_codec.py path/to/vectors.json

import json
import sys

import mpytest
import tingcodec

VECTORS_PATH = sys.argv[1] if len(sys.argv) > 1 else "codecs/vectors.json"
sys.argv[1:] = []  # mpytest reads test names from argv


def test_backend_is_pure():
    assert tingcodec.cbor_backend() == "pure"


def test_all_vectors():
    with open(VECTORS_PATH) as handle:
        vectors = json.load(handle)
    for v in vectors:
        payload = bytes.fromhex(v["hex"])
        decoded = tingcodec.decode(v["fPort"], payload, v["device"], v["direction"])
        assert decoded["message"] == v["message"], v
        assert decoded["fields"] == v["fields"], (decoded, v)
        fport, encoded = tingcodec.encode(v["device"], v["message"], v["fields"])
        assert fport == v["fPort"] and encoded == payload, v
    print("%d vectors ok" % len(vectors))


def _codec_error(func, *args):
    return mpytest.raises(tingcodec.CodecError, func, *args)


def test_bad_input_raises_codec_error():
    good = bytes.fromhex("8413182b18b400")
    _codec_error(tingcodec.decode, 10, good[:-1], "fill_level")
    _codec_error(tingcodec.decode, 10, good + b"\x00", "fill_level")
    _codec_error(tingcodec.decode, 10, bytes.fromhex("8313182b18b4"), "fill_level")
    _codec_error(tingcodec.decode, 10, bytes.fromhex("8419ffff182b18b400"), "fill_level")
    _codec_error(tingcodec.decode, 99, good, "fill_level")
    _codec_error(tingcodec.decode, 10, good, "toaster")
    _codec_error(tingcodec.decode, 10, good, "fill_level", "sideways")
    _codec_error(tingcodec.decode, "10", good, "fill_level")
    _codec_error(tingcodec.encode, "streetlight", "set_level", {"level_pct": 101})
    _codec_error(tingcodec.encode, "streetlight", "set_level", {"level_pct": True})
    _codec_error(tingcodec.encode, "streetlight", "set_level", {})
    _codec_error(tingcodec.encode, "streetlight", "set_level", {"level_pct": 1, "bogus": 2})
    _codec_error(tingcodec.encode, "lifebuoy", "presence", {"present": 1, "event_seq": 0})


def test_clamp_for_device_readings():
    reading = {"distance_mm": 7000, "temperature_c": 180.2, "battery_mv": 3300, "tilted": False}
    _codec_error(tingcodec.encode, "fill_level", "status", reading)
    fport, payload = tingcodec.encode("fill_level", "status", reading, True)
    fields = tingcodec.decode(fport, payload, "fill_level")["fields"]
    assert fields["distance_mm"] == 5100 and fields["temperature_c"] == 125


def test_every_truncation_and_byte_flip_is_handled():
    # a small deterministic fuzz over one vector of each device type
    for device, fport, hex_ in (("fill_level", 10, "8413182b18b400"), ("lifebuoy", 11, "840118981102"),
                                ("streetlight", 22, "81841a0fc968641a03c41a321a0fc1861e1a0fd16f80")):
        payload = bytes.fromhex(hex_)
        variants = [payload[:cut] for cut in range(len(payload))]
        for at in range(len(payload)):
            for byte in (0x00, 0x17, 0x18, 0x1F, 0x3F, 0x5F, 0x7F, 0x9F, 0xBF, 0xDF, 0xF7, 0xFB, 0xFF):
                mutated = bytearray(payload)
                mutated[at] = byte
                variants.append(bytes(mutated))
        for variant in variants:
            try:
                tingcodec.decode(fport, variant, device, "down" if fport >= 20 else "up")
            except tingcodec.CodecError:
                pass


mpytest.main(globals())
