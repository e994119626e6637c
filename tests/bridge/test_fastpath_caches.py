"""What the JSON fast path remembers between bodies (ingest/fastjson.Recurring, uplinkjson's device dicts,
decode.snr_db_of) changes nothing but the work: each answer is the one a fresh computation gives."""

from __future__ import annotations

import json
import math
import struct

import chirp
import pytest
from chirpstack_api import integration
from tingbro.codec import tingcodec_decode
from tingbro.decode import normalize, snr_db_of
from tingbro.ingest import uplinkjson
from tingbro.ingest.fastjson import PlainReader, Recurring, Unusual
from tingbro.ingest.parse import parse_event
from tingbro.ingest.uplinkjson import READER, uplink_from_json

TAG = "tingbro_device_type"


def body_of(up: integration.UplinkEvent, **changes: object) -> bytes:
    document = json.loads(chirp.chirpstack_json(up))
    for path, value in changes.items():
        target = document
        *steps, last = path.split("__")
        for step in steps:
            target = target[step]
        target[last] = value
    return json.dumps(document, separators=(",", ":")).encode()


def convert(body: bytes, fallback: str | None = None) -> list[dict]:
    return uplink_from_json(body, 0.0, tingcodec_decode, TAG, fallback)


def test_one_device_gives_one_device_dict_and_one_radio_text_one_struct() -> None:
    first = body_of(chirp.uplink(dev_eui="0a0b0c0d0e0f1011", f_cnt=1, dedup_id="c-1"))
    second = body_of(chirp.uplink(dev_eui="0a0b0c0d0e0f1012", f_cnt=2, dedup_id="c-2"))
    assert READER.read(first).txInfo is READER.read(second).txInfo
    assert convert(first)[0]["device"] is convert(first)[0]["device"]
    assert convert(first)[0]["device"] is not convert(second)[0]["device"]


def test_remembered_devices_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uplinkjson, "READER_LIMIT", 2)
    monkeypatch.setattr(uplinkjson, "_DEVICES", {})
    for index in range(3):
        convert(body_of(chirp.uplink(dev_eui=f"0a0b0c0d0e0f10{30 + index}", dedup_id=f"d-{index}")))
    assert list(uplinkjson._DEVICES) == ["0a0b0c0d0e0f1032"]


def test_a_changed_device_text_is_a_new_device() -> None:
    up = chirp.uplink(dev_eui="0a0b0c0d0e0f1012", dedup_id="c-3")
    before = convert(body_of(up))[0]["device"]
    up.device_info.tags["tingbro_municipality"] = "odense"
    after = convert(body_of(up))[0]["device"]
    assert before["municipality"] is None and after["municipality"] == "odense"
    assert before["tags"] == dict(sorted(chirp.uplink(dev_eui="0a0b0c0d0e0f1012").device_info.tags.items()))


def test_the_device_follows_the_callers_tag_settings() -> None:
    body = body_of(chirp.uplink(dev_eui="0a0b0c0d0e0f1013", device_type=None, payload=b"", f_port=0,
                                dedup_id="c-4"))
    assert convert(body)[0]["device"]["device_type"] is None
    assert convert(body, "lifebuoy")[0]["device"]["device_type"] == "lifebuoy"
    assert uplink_from_json(body, 0.0, tingcodec_decode, "other_tag", None)[0]["device"]["device_type"] is None


def test_a_bad_device_text_is_declined_every_time() -> None:
    good = body_of(chirp.uplink(dev_eui="0a0b0c0d0e0f1014", dedup_id="c-5"))
    bad = body_of(chirp.uplink(dev_eui="0a0b0c0d0e0f1014", dedup_id="c-5"), deviceInfo__deviceClassEnabled="X")
    assert convert(good)
    for _ in range(2):
        with pytest.raises(Unusual):
            convert(bad)


def test_remembered_texts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Recurring, "LIMIT", 2)
    reader = PlainReader(integration.UplinkEvent.DESCRIPTOR, recurring=("deviceInfo",))
    infos = []
    for index in range(4):
        body = body_of(chirp.uplink(dev_eui=f"0a0b0c0d0e0f10{20 + index}", dedup_id=f"c-{index}"))
        infos.append(reader.read(body).deviceInfo)
    (_, known, _), = reader._recurring
    assert len(known) == 2 and list(known.values()) == infos[2:]
    assert infos[3].devEui == "0a0b0c0d0e0f1023"


@pytest.mark.parametrize("snr", [7.805, -12.3, 10.5, 0.1, 1e-30, -3.4e38])
def test_snr_db_is_the_float32_rounded_to_a_hundredth(snr: float) -> None:
    expected = round(struct.unpack("<f", struct.pack("<f", snr))[0], 2)
    assert snr_db_of(snr) == expected and snr_db_of(snr) == expected  # computed, then remembered


def test_snr_db_keeps_the_sign_of_zero_and_refuses_non_finite() -> None:
    assert math.copysign(1, snr_db_of(0.0)) == 1 and math.copysign(1, snr_db_of(-0.0)) == -1
    assert snr_db_of(math.nan) is None and snr_db_of(math.inf) is None and snr_db_of(-math.inf) is None


def test_tags_in_any_order_give_one_sorted_device_as_the_reference_does() -> None:
    up = chirp.uplink(dev_eui="0a0b0c0d0e0f1040", dedup_id="c-40", tags={
        "tingbro_longitude": "10.2", "tingbro_latitude": "56.15", "tingbro_municipality": "aarhus"})
    document = json.loads(chirp.chirpstack_json(up))
    tags = document["deviceInfo"]["tags"]
    for index, order in enumerate((sorted(tags, reverse=True), sorted(tags))):
        document["deviceInfo"]["tags"] = {name: tags[name] for name in order}
        document["deviceInfo"]["devEui"] = f"0a0b0c0d0e0f104{index}"  # a new device each: nothing remembered
        body = json.dumps(document).encode()
        device = convert(body)[0]["device"]
        expected = normalize("up", parse_event("up", body, "json"), 0.0, tingcodec_decode, TAG, None)[0]["device"]
        assert device == expected and list(device["tags"]) == sorted(tags)
        assert device["location"] == {"lat": 56.15, "lon": 10.2} and device["municipality"] == "aarhus"
