"""The command-status state machine (pure) and the service that feeds it from bridge events."""

from __future__ import annotations

import pytest
from chirpstack_fake import FakeChirpStack
from tingbro.chirpstack import ChirpStackClient
from tingbro.control import command_status as cs_
from tingbro.control.command_service import CommandService
from tingbro.control.command_store import CommandStore
from tingbro.control.commands import build_command

NOW = "2026-11-23T10:00:00+00:00"
DEV = "0a0b0c0d0e0f1011"


def command(confirmed: bool = True, max_attempts: int = 3) -> dict:
    built = build_command("streetlight", "level", {"level_pct": 40})
    return cs_.new_command("c1", {"dev_eui": DEV}, built, confirmed, max_attempts, NOW)


def event(kind: str, queue_item_id: str, **detail) -> dict:
    return {"id": f"x:{kind}", "type": kind, "time": NOW, "detail": {"queue_item_id": queue_item_id, **detail}}


def test_confirmed_happy_path_queued_sent_acked():
    c = cs_.enqueued(command(), "q1", NOW)
    assert (c["status"], c["attempts"], c["queue_item_id"]) == ("queued", 1, "q1")
    c, action = cs_.apply_event(c, event("txack", "q1", f_cnt_down=7), NOW)
    assert (c["status"], action) == ("sent", None)
    c, action = cs_.apply_event(c, event("ack", "q1", acknowledged=True), NOW)
    assert (c["status"], action) == ("acked", None)
    assert [h["status"] for h in c["history"]] == ["queued", "sent", "acked"]


def test_events_for_other_queue_items_are_ignored():
    c = cs_.enqueued(command(), "q1", NOW)
    same, action = cs_.apply_event(c, event("ack", "other", acknowledged=True), NOW)
    assert same is c and action is None
    same, _ = cs_.apply_event(c, {"type": "uplink", "detail": {}}, NOW)
    assert same is c


def test_camel_case_and_log_context_ids_are_understood():
    assert cs_.queue_item_of({"detail": {"queueItemId": "a"}}) == "a"
    assert cs_.queue_item_of({"detail": {"context": {"queue_item_id": "b"}}}) == "b"
    assert cs_.queue_item_of({"detail": {}}) is None


def test_nack_asks_for_reenqueue_until_max_attempts_then_fails():
    c = cs_.enqueued(command(max_attempts=2), "q1", NOW)
    c, action = cs_.apply_event(c, event("ack", "q1", acknowledged=False), NOW)
    assert (c["status"], action) == ("queued", cs_.REENQUEUE)
    c = cs_.enqueued(c, "q2", NOW)
    assert c["attempts"] == 2
    c, action = cs_.apply_event(c, event("ack", "q2", acknowledged=False), NOW)
    assert (c["status"], action) == ("failed", None)
    assert c["reason"] == "not acknowledged after 2 attempts"


def test_final_states_do_not_move():
    c = cs_.enqueued(command(), "q1", NOW)
    c, _ = cs_.apply_event(c, event("ack", "q1", acknowledged=True), NOW)
    again, action = cs_.apply_event(c, event("ack", "q1", acknowledged=False), NOW)
    assert again["status"] == "acked" and action is None


def test_log_error_for_the_item_fails_it_with_the_reason():
    c = cs_.enqueued(command(), "q1", NOW)
    log = {"type": "log", "detail": {"level": "ERROR", "code": "DOWNLINK_PAYLOAD_SIZE", "description": "too big",
                                     "context": {"queue_item_id": "q1"}}}
    c, _ = cs_.apply_event(c, log, NOW)
    assert c["status"] == "failed" and "DOWNLINK_PAYLOAD_SIZE" in c["reason"]


def test_unconfirmed_ends_at_sent_and_multicast_is_never_confirmed():
    c = cs_.enqueued(command(confirmed=False), "q1", NOW)
    c, _ = cs_.apply_event(c, event("txack", "q1"), NOW)
    assert c["status"] == "sent" and c["confirmed"] is False
    built = build_command("streetlight", "level", {"level_pct": 1})
    group = cs_.new_command("g", {"multicast_group_id": "m", "multicast_group": "street"}, built, True, 3, NOW)
    assert group["confirmed"] is False


@pytest.fixture
def service(tmp_path):
    with FakeChirpStack(token="t") as fake:
        app_id = fake.add_application()
        from chirpstack_api import api

        fake.devices[DEV] = api.Device(dev_eui=DEV, name="lamp", application_id=app_id)
        store = CommandStore(tmp_path / "c.sqlite")
        with ChirpStackClient(fake.target, "t") as client:
            yield CommandService(client, store, app_id, max_attempts=2), fake, store
        store.close()


def test_service_reenqueues_a_nacked_command_and_persists_each_step(service, tmp_path):
    svc, fake, store = service
    c = svc.send(DEV, "streetlight", "level", {"level_pct": 40})
    first_id = c["queue_item_id"]
    assert c["status"] == "queued" and first_id
    assert svc.handle_event(event("txack", first_id))["status"] == "sent"
    c = svc.handle_event(event("ack", first_id, acknowledged=False))
    assert c["status"] == "queued" and c["attempts"] == 2 and c["queue_item_id"] != first_id
    enqueues = fake.calls("DeviceService", "Enqueue")
    assert len(enqueues) == 2 and enqueues[0].queue_item == enqueues[1].queue_item
    assert svc.handle_event(event("ack", first_id, acknowledged=True)) is None  # stale id: not ours any more
    c = svc.handle_event(event("ack", c["queue_item_id"], acknowledged=False))
    assert c["status"] == "failed"
    reopened = CommandStore(tmp_path / "c.sqlite")
    assert reopened.get(c["id"])["status"] == "failed"
    reopened.close()


def test_service_records_an_enqueue_failure(service):
    svc, fake, store = service
    c = svc.send("ffffffffffffffff", "streetlight", "level", {"level_pct": 40})
    assert c["status"] == "failed" and "not found" in c["reason"]
    assert store.get(c["id"])["status"] == "failed"


def test_friendly_command_names_per_type():
    from tingbro.control.commands import CommandError, resolve_message

    assert resolve_message("lifebuoy", "thresholds") == "set_debounce"
    assert resolve_message("fill_level", "thresholds") == "set_alarm_thresholds"
    assert resolve_message("lifebuoy", "interval") == "set_heartbeat_interval"
    assert resolve_message("streetlight", "presence-dimming") == "set_presence_dimming"
    assert resolve_message("streetlight", "set_default_level") == "set_default_level"
    with pytest.raises(CommandError, match="commands: set_level, set_default_level"):
        resolve_message("streetlight", "thresholds")


def test_send_parses_fields_as_encode_does() -> None:
    from tingbro.control.commands import CommandError, parse_assignments

    assert parse_assignments(["level_pct=40", "fade_ms=2000", "on=true", "anchor=sunset"]) == {
        "level_pct": 40, "fade_ms": 2000, "on": True, "anchor": "sunset"}
    assert parse_assignments(['points=[{"level_pct": 100}]']) == {"points": [{"level_pct": 100}]}
    for bad in (["level_pct=40", "level_pct=50"], ["level_pct"], ["points=[1,"]):
        with pytest.raises(CommandError):
            parse_assignments(bad)
