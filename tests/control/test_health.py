"""The watchdog and the lifebuoy alarm with an injected clock (seconds)."""

from __future__ import annotations

from tingbro.control.health import Watchdog

T0 = 1_795_000_000.0


def uplink(dev_eui: str, device_type: str, n: int, fields: dict | None = None, tags: dict | None = None) -> dict:
    device = {"dev_eui": dev_eui, "name": f"dev-{dev_eui[-2:]}", "device_type": device_type,
              "application_id": "app", "tenant_id": None, "municipality": "aarhus", "location": {"lat": 56.15, "lon": 10.21}, "tags": tags or {}}
    return {"id": f"dedup{n}:up", "type": "uplink", "device": device, "fields": fields or {}, "detail": {}}


def test_offline_after_two_and_a_half_intervals_and_online_again():
    dog = Watchdog()
    assert dog.observe(uplink("00000000000000aa", "streetlight", 1), T0) == []  # default interval 900 s
    assert dog.check(T0 + 2.5 * 900) == []
    (offline,) = dog.check(T0 + 2.5 * 900 + 1)
    assert offline["type"] == "device_offline"
    assert offline["device"]["dev_eui"] == "00000000000000aa"
    assert offline["detail"] == {"last_uplink": "2026-11-18T11:06:40+00:00", "silent_s": 2251,
                                 "expected_interval_s": 900}
    assert set(offline) == {"id", "type", "time", "device", "radio", "message", "fields", "derived", "alarm",
                            "detail"}
    assert dog.check(T0 + 10_000) == []  # raised once, not every check
    (online,) = dog.observe(uplink("00000000000000aa", "streetlight", 2), T0 + 10_001)
    assert online["type"] == "device_online" and online["id"] == "dedup2:device_online"
    assert dog.observe(uplink("00000000000000aa", "streetlight", 3), T0 + 10_002) == []


def test_interval_tag_overrides_the_type_default_and_unknown_types_are_skipped():
    dog = Watchdog()
    dog.observe(uplink("00000000000000bb", "fill_level", 1, tags={"tingbro_uplink_interval_s": "60"}), T0)
    dog.observe(uplink("00000000000000cc", None, 1), T0)
    assert [e["device"]["dev_eui"] for e in dog.check(T0 + 151)] == ["00000000000000bb"]
    assert dog.check(T0 + 10**7) == []


def test_non_uplink_events_do_not_count_as_alive():
    dog = Watchdog()
    dog.observe(uplink("00000000000000dd", "streetlight", 1), T0)
    ack = {"id": "x:txack", "type": "txack", "device": {"dev_eui": "00000000000000dd", "device_type": "streetlight"}}
    assert dog.observe(ack, T0 + 2000) == []
    assert len(dog.check(T0 + 2300)) == 1


def test_lifebuoy_removed_alarm_carries_location_and_clears_on_return():
    dog = Watchdog()
    buoy = "00000000000000ee"
    assert dog.observe(uplink(buoy, "lifebuoy", 1, {"present": True, "tamper": False}), T0) == []
    (alarm,) = dog.observe(uplink(buoy, "lifebuoy", 2, {"present": False, "tamper": False}), T0 + 5)
    assert alarm["type"] == "alarm" and alarm["alarm"] == {"name": "lifebuoy_removed", "active": True}
    assert alarm["device"]["location"] == {"lat": 56.15, "lon": 10.21}
    assert alarm["detail"]["location"] == {"lat": 56.15, "lon": 10.21}
    assert alarm["id"] == "dedup2:alarm:lifebuoy_removed"
    # repeated presence messages while still removed raise nothing new
    assert dog.observe(uplink(buoy, "lifebuoy", 3, {"present": False}), T0 + 10) == []
    (cleared,) = dog.observe(uplink(buoy, "lifebuoy", 4, {"present": True}), T0 + 600)
    assert cleared["alarm"] == {"name": "lifebuoy_removed", "active": False}


def test_lifebuoy_default_interval_is_daily():
    dog = Watchdog()
    dog.observe(uplink("00000000000000ff", "lifebuoy", 1, {"present": True}), T0)
    assert dog.check(T0 + 2.5 * 86400) == []
    assert len(dog.check(T0 + 2.5 * 86400 + 1)) == 1


def test_seeded_devices_are_watched_after_a_restart(tmp_path):
    from chirpstack_api import api
    from chirpstack_fake import FakeChirpStack
    from tingbro.chirpstack import ChirpStackClient
    from tingbro.control.health_seed import seed_from_chirpstack

    with FakeChirpStack(token="t") as cs:
        app_id = cs.add_application()
        for n in range(150):  # two pages
            dev_eui = f"{n:016x}"
            tags = {"tingbro_device_type": "lifebuoy", "tingbro_latitude": "56.1", "tingbro_longitude": "10.2"}
            cs.devices[dev_eui] = api.Device(dev_eui=dev_eui, name=f"buoy-{n}", application_id=app_id, tags=tags)
            if n % 2 == 0:
                cs.last_seen_s[dev_eui] = int(T0) - 86400  # heard a day before the restart
        cs.devices["ffffffffffffffff"] = api.Device(dev_eui="ffffffffffffffff", name="untagged",
                                                     application_id=app_id)
        dog = Watchdog()
        with ChirpStackClient(cs.target, "t") as client:
            assert seed_from_chirpstack(client, app_id, dog, T0) == 151
        assert len(cs.calls("DeviceService", "List")) == 2
    assert len(dog.devices) == 150  # the untagged device has no interval to expect
    # heard a day ago: offline 1.5 days after the restart; never heard: 2.5 days after it
    first = dog.check(T0 + 1.5 * 86400 + 1)
    assert len(first) == 75 and all(int(e["device"]["dev_eui"], 16) % 2 == 0 for e in first)
    assert first[0]["device"]["location"] == {"lat": 56.1, "lon": 10.2}
    assert len(dog.check(T0 + 2.5 * 86400 + 1)) == 75
    # an uplink seen before seeding is not overwritten by an older last_seen_at
    dog2 = Watchdog()
    dog2.observe(uplink("0000000000000000", "lifebuoy", 1, {"present": True}), T0)
    dog2.seed({"dev_eui": "0000000000000000", "device_type": "lifebuoy", "tags": {}}, T0 - 10**6)
    assert dog2.check(T0 + 86400) == []


def test_events_match_the_bridge_event_schema():
    import json
    from pathlib import Path

    import jsonschema
    from tingbro.control.control_plane import command_event
    from tingbro.control.events import unknown_device

    schema_path = Path(__file__).resolve().parents[2] / "bridge" / "tingbro" / "schema" / "event.schema.json"
    validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text()))
    dog = Watchdog()
    events = dog.observe(uplink("00000000000000ee", "lifebuoy", 1, {"present": True}), T0)
    events += dog.observe(uplink("00000000000000ee", "lifebuoy", 2, {"present": False}), T0 + 1)
    events += dog.check(T0 + 10**6)
    events += dog.observe(uplink("00000000000000ee", "lifebuoy", 3, {"present": True}), T0 + 10**6 + 1)
    command = {"id": "c1", "dev_eui": None, "device_type": "streetlight", "message": "set_level",
               "fields": {"level_pct": 1}, "status": "queued", "attempts": 1, "queue_item_id": "m:1",
               "reason": None, "multicast_group": "street"}
    events.append(command_event(command, None, T0))
    events.append(command_event(dict(command, dev_eui="00000000000000ee"), unknown_device("00000000000000ee", None),
                                T0))
    assert [e["type"] for e in events] == ["alarm", "device_offline", "device_online", "alarm", "command", "command"]
    for event in events:
        errors = [error.message for error in validator.iter_errors(event)]
        assert errors == [], (event["type"], errors)


def test_a_replayed_older_uplink_does_not_bring_an_offline_device_back():
    dog = Watchdog()
    dog.observe(uplink("00000000000000ab", "streetlight", 1), T0)
    assert len(dog.check(T0 + 3000)) == 1
    assert dog.observe(uplink("00000000000000ab", "streetlight", 0), T0 - 100) == []
    assert dog.devices["00000000000000ab"]["offline"] is True
    assert [e["type"] for e in dog.observe(uplink("00000000000000ab", "streetlight", 2), T0 + 3001)] == \
        ["device_online"]


def test_offline_events_that_could_not_be_stored_are_raised_again():
    from tingbro.control.control_plane import ControlPlane

    plane = ControlPlane(None)
    plane.seed([({"dev_eui": "00000000000000cd", "device_type": "streetlight", "tags": {}}, T0)])
    first = plane.tick(T0 + 3000)
    assert len(first) == 1 and plane.tick(T0 + 3001) == []
    plane.forget_offline(first)
    again = plane.tick(T0 + 3002)
    assert [e["id"] for e in again] == [e["id"] for e in first]  # same id: the outbox keeps one
