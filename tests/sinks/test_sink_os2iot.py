"""The OS2iot sink against a local stand-in for OS2iot's Generic HTTP ingest on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sinkhelp import Receiver, lifebuoy_alarm, make_event, run
from tingbro.sinks import PermanentSinkError, SinkConfigError, TransientSinkError, build_sink

BIN_KEY = "4b1c6a3e-1111-4c4c-9d9d-000000000042"
BUOY_KEY = "4b1c6a3e-2222-4c4c-9d9d-0000000000b7"


@pytest.fixture
def keys_file(tmp_path: Path) -> Path:
    path = tmp_path / "os2iot-keys.json"
    path.write_text(json.dumps({"0102030405060708": BIN_KEY, "70B3D57ED00000B7": BUOY_KEY}))
    return path


def test_posts_each_event_to_receive_data_with_its_device_key(keys_file: Path) -> None:
    events = [make_event(1), lifebuoy_alarm(2), make_event(3)]

    async def scenario() -> None:
        async with Receiver(default_status=204) as os2iot:
            sink = build_sink("os2iot", "os2iot", {"url": os2iot.url + "/", "api_keys_file": str(keys_file),
                                                   "max_batch": 10})
            assert set(sink.secrets) == {BIN_KEY, BUOY_KEY}
            await sink.start()
            await sink.deliver(events)
            await sink.close()
            assert [(r.method, r.path, r.query) for r in os2iot.requests] == [
                ("POST", "/api/v1/receive-data", {"apiKey": BIN_KEY}),
                ("POST", "/api/v1/receive-data", {"apiKey": BUOY_KEY}),
                ("POST", "/api/v1/receive-data", {"apiKey": BIN_KEY}),
            ]
            assert [json.loads(r.body) for r in os2iot.requests] == events
            assert all(r.headers["Content-Type"] == "application/json" for r in os2iot.requests)

    run(scenario())


def test_flat_payload_and_defaults() -> None:
    async def scenario() -> None:
        async with Receiver(default_status=204) as os2iot:
            sink = build_sink("os2iot", "os2iot", {"url": os2iot.url, "payload": "flat",
                                                   "api_keys": {"0102030405060708": BIN_KEY}})
            assert sink.max_batch == 1
            await sink.deliver([make_event(1, type="join")])  # not an uplink or alarm: not sent by default
            await sink.deliver([make_event(2)])
            await sink.close()
            (request,) = os2iot.requests
            assert json.loads(request.body) == {
                "id": make_event(2)["id"], "type": "uplink", "time": "2026-11-23T09:00:00.123456+00:00",
                "dev_eui": "0102030405060708", "device_name": "bin-aarhus-0042", "device_type": "fill_level",
                "message": "status", "rssi_dbm": -80, "snr_db": 7.5, "f_cnt": 2,
                "distance_mm": 380, "temperature_c": 21.5, "battery_mv": 3600, "fill_ratio": 0.72}

    run(scenario())


def test_missing_key_and_rejected_key_are_permanent_without_leaking(keys_file: Path) -> None:
    async def scenario() -> None:
        async with Receiver(default_status=403, response_body=b'{"message":"MESSAGE.DEVICE-DOES-NOT-EXIST"}') \
                as os2iot:
            sink = build_sink("os2iot", "os2iot", {"url": os2iot.url, "api_keys_file": str(keys_file)})
            with pytest.raises(PermanentSinkError, match="no OS2iot API key.*ffffffffffffffff"):
                await sink.deliver([make_event(1, device={"dev_eui": "ffffffffffffffff"})])
            assert os2iot.requests == []
            with pytest.raises(PermanentSinkError, match="HTTP 403") as caught:
                await sink.deliver([make_event(2)])
            assert BIN_KEY not in str(caught.value)
            os2iot.default_status = 500
            with pytest.raises(TransientSinkError, match="HTTP 500"):
                await sink.deliver([make_event(3)])
            await sink.close()

    run(scenario())


def test_bad_keys_file(tmp_path: Path) -> None:
    with pytest.raises(SinkConfigError, match="cannot read api_keys_file"):
        build_sink("o", "os2iot", {"url": "http://127.0.0.1:1", "api_keys_file": str(tmp_path / "none.json")})
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(SinkConfigError, match="JSON object"):
        build_sink("o", "os2iot", {"url": "http://127.0.0.1:1", "api_keys_file": str(tmp_path / "list.json")})


def test_unreachable_os2iot_is_transient_and_hides_the_key() -> None:
    from conftest import free_port

    async def scenario() -> None:
        sink = build_sink("os2iot", "os2iot", {"url": f"http://127.0.0.1:{free_port()}",
                                               "api_keys": {"0102030405060708": BIN_KEY}})
        with pytest.raises(TransientSinkError, match="cannot post") as caught:
            await sink.deliver([make_event(1)])
        await sink.close()
        assert BIN_KEY not in str(caught.value) and "apiKey" not in str(caught.value)

    run(scenario())
