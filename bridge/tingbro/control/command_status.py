"""Command status: a pure state machine fed by the enqueue result and the bridge's events.

    queued --txack--> sent --ack(true)--> acked
                        \\--ack(false)--> queued again (re-enqueue, up to max_attempts) or failed
    queued --log ERROR for its queue item (expired, too large, ...)--> failed

An unconfirmed downlink ends at `sent` (nothing acknowledges it). Multicast commands end at
`queued`: ChirpStack reports no per-device txack/ack for them. A command is a plain dict so the
store and the HTTP API can serialise it; functions return a new dict and never mutate.
"""

from __future__ import annotations

from typing import Any

QUEUED = "queued"
SENT = "sent"
ACKED = "acked"
FAILED = "failed"
FINAL = (ACKED, FAILED)

REENQUEUE = "re-enqueue"


def new_command(command_id: str, target: dict[str, Any], built: dict[str, Any], confirmed: bool,
                max_attempts: int, now: str) -> dict[str, Any]:
    """`target` is {"dev_eui": ...} or {"multicast_group_id": ..., "multicast_group": name}."""
    return {
        "id": command_id, "dev_eui": target.get("dev_eui"), "multicast_group_id": target.get("multicast_group_id"),
        "multicast_group": target.get("multicast_group"), "device_type": built["device_type"],
        "message": built["message"], "fields": built["fields"], "f_port": built["f_port"],
        "payload_hex": built["payload_hex"], "confirmed": bool(confirmed) and not target.get("multicast_group_id"),
        "status": "new", "queue_item_id": None, "attempts": 0, "max_attempts": max(1, max_attempts),
        "reason": None, "created_at": now, "updated_at": now, "history": [],
    }


def _moved(command: dict[str, Any], status: str, now: str, reason: str | None = None, **changes: Any) -> dict[str, Any]:
    updated = dict(command, status=status, updated_at=now, **changes)
    if reason is not None:
        updated["reason"] = reason
    updated["history"] = [*command["history"], {"status": status, "time": now, "reason": reason}]
    return updated


def settled(command: dict[str, Any]) -> bool:
    """Nothing more will happen to it: acked, failed, or an unconfirmed command that was sent."""
    return command["status"] in FINAL or (command["status"] == SENT and not command["confirmed"])


def enqueued(command: dict[str, Any], queue_item_id: str, now: str) -> dict[str, Any]:
    """ChirpStack accepted the item (Enqueue returned its id; for multicast, the group f_cnt)."""
    return _moved(command, QUEUED, now, queue_item_id=queue_item_id, attempts=command["attempts"] + 1)


def enqueue_failed(command: dict[str, Any], reason: str, now: str) -> dict[str, Any]:
    return _moved(command, FAILED, now, reason=reason)


def queue_item_of(event: dict[str, Any]) -> str | None:
    """The queue-item id an event refers to (txack/ack detail, or a log event's context)."""
    detail = event.get("detail") or {}
    context = detail.get("context") or {}
    for value in (detail.get("queue_item_id"), detail.get("queueItemId"), context.get("queue_item_id")):
        if value:
            return str(value)
    return None


def apply_event(command: dict[str, Any], event: dict[str, Any], now: str) -> tuple[dict[str, Any], str | None]:
    """Advance `command` by one bridge event -> (command, action); action REENQUEUE asks for a resend."""
    if command["status"] in FINAL or command["queue_item_id"] is None:
        return command, None
    if queue_item_of(event) != command["queue_item_id"]:
        return command, None
    kind = event.get("type")
    detail = event.get("detail") or {}
    if kind == "txack" and command["status"] == QUEUED:
        return _moved(command, SENT, now), None
    if kind == "ack":
        if detail.get("acknowledged"):
            return _moved(command, ACKED, now), None
        if command["attempts"] < command["max_attempts"]:
            return _moved(command, QUEUED, now, reason="not acknowledged; sending again"), REENQUEUE
        return _moved(command, FAILED, now, reason=f"not acknowledged after {command['attempts']} attempts"), None
    if kind == "log" and str(detail.get("level", "")).upper() == "ERROR":
        code = detail.get("code") or "ERROR"
        text = detail.get("description") or ""
        return _moved(command, FAILED, now, reason=f"ChirpStack discarded it: {code} {text}".strip()), None
    return command, None
