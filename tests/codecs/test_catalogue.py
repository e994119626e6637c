"""The catalogue is consistent, and its layouts meet the size targets at the extremes of every range."""

from __future__ import annotations

import pytest
import tingcodec
from tingcodec import catalogue, examples

ALL = list(examples.all_messages())
IDS = [f"{device}.{msg['name']}" for device, msg in ALL]


def test_every_device_type_has_messages_in_both_directions() -> None:
    assert catalogue.DEVICE_TYPES == ("fill_level", "lifebuoy", "streetlight")
    for device in catalogue.DEVICE_TYPES:
        assert tingcodec.message_names(device, "up") and tingcodec.message_names(device, "down")
        names = tingcodec.message_names(device)
        assert len(names) == len(set(names)), "message names must be unique per device type"
        ports = [msg["fport"] for msg in catalogue.MESSAGES[device]]
        assert len(ports) == len(set(ports)), "an fPort carries one message per device type"
        assert all(1 <= port <= 223 for port in ports)


@pytest.mark.parametrize(("device", "msg"), ALL, ids=IDS)
def test_message_shape(device: str, msg: dict) -> None:
    outputs: list[str] = []
    seen_optional = False
    for field in msg["fields"]:
        assert field["kind"] in ("int", "flags", "enum", "list")
        outputs.extend(tingcodec.output_names(field))
        if field["optional"]:
            seen_optional = True
            assert field["kind"] == "int" and "default" in field, "optional fields need a default"
        else:
            assert not seen_optional, "optional fields only at the end (append-only rule)"
        if field["kind"] == "int":
            assert field["min"] <= field["max"]
            for end in (field["min"], field["max"]):  # range ends must be exact wire values
                assert end * field["scale"] % field["step"] == 0
        if field["kind"] == "list":
            width = sum(sub["width"] for sub in field["item"])
            for sub in field["item"]:
                span = len(sub["values"]) - 1 if "values" in sub else sub["max"] - sub["min"]
                assert 0 < span < 1 << sub["width"]
            assert width <= 32, "a packed list item stays within a 5-byte CBOR integer"
    assert len(outputs) == len(set(outputs)), "decoded field names unique within a message"


@pytest.mark.parametrize(("device", "msg"), ALL, ids=IDS)
def test_size_targets_at_the_extremes(device: str, msg: dict) -> None:
    size = len(tingcodec.encode(device, msg["name"], examples.largest(msg))[1])
    for which in ("min", "max"):
        assert len(tingcodec.encode(device, msg["name"], examples.extreme(msg, which))[1]) <= size
    if (device, msg["name"]) == ("streetlight", "set_schedule"):
        eight = {"points": examples.extreme(msg, "max")["points"][:8]}
        assert len(tingcodec.encode(device, "set_schedule", eight)[1]) <= 51
    else:
        assert size <= 11, "every uplink and single-command downlink fits US915 DR0 (11 B)"
    if (device, msg["name"]) == ("fill_level", "status"):
        assert size <= 8
    if (device, msg["name"]) == ("lifebuoy", "presence"):
        assert size <= 4


def test_energy_counter_does_not_wrap_in_twenty_years_at_250_w() -> None:
    energy = next(f for f in tingcodec.field_specs("streetlight", "meter") if f["name"] == "energy_wh")
    assert energy["max"] >= 250 * 24 * 365.25 * 20


def test_field_names_carry_units() -> None:
    suffixes = {"mm": "_mm", "mV": "_mv", "°C": "_c", "s": "_s", "ms": "_ms", "W": "_w", "Wh": "_wh",
                "%": "_pct", "h": "_hours", "°": "_deg", "°C/min": "_c_per_min", "min": "_min"}
    for _device, msg in ALL:
        for field in msg["fields"]:
            if field["kind"] == "int" and field["unit"]:
                assert field["name"].endswith(suffixes[field["unit"]]), field["name"]
