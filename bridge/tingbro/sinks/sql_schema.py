"""The SQL sink's schema: one `events` table, one view per device type, and the row for an event.

Kept identical in meaning for SQLite and PostgreSQL; only types and JSON access differ.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tingbro.sinks.jsonenc import dump_json

COLUMNS = ("id", "type", "time", "dev_eui", "device_name", "device_type", "municipality", "message",
           "alarm_name", "alarm_active", "f_cnt", "f_port", "rssi_dbm", "snr_db", "gateway_count", "lat", "lon",
           "fields", "derived", "detail", "tags", "event", "stored_at")

# view name -> [(column, JSON object, key, SQL type)] over uplinks of one device type.
VIEWS: dict[str, tuple[str, list[tuple[str, str, str, str]]]] = {
    "fill_level_readings": ("fill_level", [
        ("fill_ratio", "derived", "fill_ratio", "real"),
        ("distance_mm", "fields", "distance_mm", "real"),
        ("temperature_c", "fields", "temperature_c", "real"),
        ("battery_mv", "fields", "battery_mv", "real"),
        ("tilted", "fields", "tilted", "boolean"),
    ]),
    "lifebuoy_readings": ("lifebuoy", [
        ("present", "fields", "present", "boolean"),
        ("tamper", "fields", "tamper", "boolean"),
        ("battery_mv", "fields", "battery_mv", "real"),
        ("temperature_c", "fields", "temperature_c", "real"),
    ]),
    "streetlight_readings": ("streetlight", [
        ("level_pct", "fields", "level_pct", "real"),
        ("lamp_on", "fields", "lamp_on", "boolean"),
        ("power_w", "fields", "power_w", "real"),
        ("energy_wh", "fields", "energy_wh", "real"),
        ("lamp_failure", "fields", "lamp_failure", "boolean"),
        ("driver_failure", "fields", "driver_failure", "boolean"),
        ("presence_detections", "fields", "presence_detections", "real"),
    ]),
}
VIEW_COMMON = ("id", "time", "dev_eui", "device_name", "municipality", "message", "f_cnt", "rssi_dbm", "snr_db",
               "lat", "lon")


def _table_sql(postgres: bool) -> str:
    text, time, json_type = ("text", "timestamptz", "jsonb") if postgres else ("TEXT", "TEXT", "TEXT")
    boolean, integer, real = ("boolean", "bigint", "double precision") if postgres else ("INTEGER", "INTEGER", "REAL")
    return f"""CREATE TABLE IF NOT EXISTS events (
  id {text} PRIMARY KEY, type {text} NOT NULL, time {time} NOT NULL,
  dev_eui {text} NOT NULL, device_name {text}, device_type {text}, municipality {text},
  message {text}, alarm_name {text}, alarm_active {boolean},
  f_cnt {integer}, f_port {integer}, rssi_dbm {real}, snr_db {real}, gateway_count {integer}, lat {real}, lon {real},
  fields {json_type} NOT NULL, derived {json_type} NOT NULL, detail {json_type} NOT NULL, tags {json_type} NOT NULL,
  event {json_type} NOT NULL, stored_at {time} NOT NULL)"""


def _json_column(postgres: bool, source: str, key: str, sql_type: str) -> str:
    if postgres:
        cast = "boolean" if sql_type == "boolean" else "double precision"
        return f"({source}->>'{key}')::{cast}"
    return f"json_extract({source}, '$.{key}')"


def ddl(postgres: bool) -> list[str]:
    """Statements that create the table, its indexes and the views; safe to run at every start."""
    statements = [_table_sql(postgres)]
    for name, columns in (("events_device_time", "dev_eui, time"), ("events_type_time", "device_type, time"),
                          ("events_kind_time", "type, time")):
        statements.append(f"CREATE INDEX IF NOT EXISTS {name} ON events ({columns})")
    drop = "DROP VIEW IF EXISTS {}"
    for view, (device_type, columns) in VIEWS.items():
        selected = ", ".join(VIEW_COMMON) + "".join(
            f", {_json_column(postgres, source, key, sql_type)} AS {column}"
            for column, source, key, sql_type in columns)
        statements.append(drop.format(view))
        statements.append(f"CREATE VIEW {view} AS SELECT {selected} FROM events "
                          f"WHERE type = 'uplink' AND device_type = '{device_type}'")
    statements.append(drop.format("alarms"))
    statements.append("CREATE VIEW alarms AS SELECT id, time, dev_eui, device_name, device_type, municipality, "
                      "alarm_name, alarm_active FROM events WHERE type = 'alarm'")
    return statements


# Columns the database fills from the event JSON itself (cheaper than encoding each part in Python).
JSON_PARTS = {"fields": "fields", "derived": "derived", "detail": "detail", "tags": "device.tags"}


def insert_sql(postgres: bool) -> str:
    values = []
    for column in COLUMNS:
        if column in JSON_PARTS:
            path = JSON_PARTS[column]
            if postgres:
                values.append("(%(event)s::jsonb) #> '{" + path.replace(".", ",") + "}'")
            else:
                values.append(f"json_extract(:event, '$.{path}')")
        else:
            values.append(f"%({column})s" if postgres else f":{column}")
    head = "INSERT INTO events" if postgres else "INSERT OR IGNORE INTO events"
    tail = " ON CONFLICT (id) DO NOTHING" if postgres else ""
    return f"{head} ({', '.join(COLUMNS)}) VALUES ({', '.join(values)}){tail}"


def utc(rfc3339: str) -> datetime:
    moment = datetime.fromisoformat(rfc3339)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def event_row(event: dict[str, Any], stored_at: datetime, postgres: bool) -> dict[str, Any]:
    """Named parameters for one row; times as datetimes for PostgreSQL, sortable UTC text for SQLite."""
    device, radio, alarm = event["device"], event["radio"] or {}, event["alarm"]
    location = device["location"] or {}
    moment = utc(event["time"])
    active = bool(alarm["active"]) if alarm else None
    return {
        "id": event["id"], "type": event["type"], "dev_eui": device["dev_eui"], "device_name": device["name"],
        "device_type": device["device_type"], "municipality": device["municipality"], "message": event["message"],
        "alarm_name": alarm["name"] if alarm else None,
        "alarm_active": active if postgres or active is None else int(active),
        "f_cnt": radio.get("f_cnt"), "f_port": radio.get("f_port"), "rssi_dbm": radio.get("rssi_dbm"),
        "snr_db": radio.get("snr_db"), "gateway_count": radio.get("gateway_count"),
        "lat": location.get("lat"), "lon": location.get("lon"),
        "event": dump_json(event).decode(),
        "time": moment if postgres else moment.isoformat(timespec="microseconds"),
        "stored_at": stored_at if postgres else stored_at.isoformat(timespec="microseconds"),
    }
