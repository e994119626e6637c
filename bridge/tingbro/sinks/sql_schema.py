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
        ("tilt", "fields", "tilt", "boolean"),
    ]),
    "lifebuoy_readings": ("lifebuoy", [
        ("present", "fields", "present", "boolean"),
        ("tamper", "fields", "tamper", "boolean"),
        ("battery_mv", "fields", "battery_mv", "real"),
    ]),
    "streetlight_readings": ("streetlight", [
        ("level_pct", "fields", "level_pct", "real"),
        ("lamp_on", "fields", "lamp_on", "boolean"),
        ("power_w", "fields", "power_w", "real"),
        ("energy_wh", "fields", "energy_wh", "real"),
        ("lamp_failure", "fields", "lamp_failure", "boolean"),
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


def insert_sql(postgres: bool) -> str:
    placeholders = ", ".join(["%s" if postgres else "?"] * len(COLUMNS))
    if postgres:
        return f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({placeholders}) ON CONFLICT (id) DO NOTHING"
    return f"INSERT OR IGNORE INTO events ({', '.join(COLUMNS)}) VALUES ({placeholders})"


def utc(rfc3339: str) -> datetime:
    moment = datetime.fromisoformat(rfc3339)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def event_row(event: dict[str, Any], stored_at: datetime, postgres: bool) -> tuple[Any, ...]:
    """One row; times as datetimes for PostgreSQL, as sortable UTC text (microseconds) for SQLite."""
    device, radio, alarm = event["device"], event["radio"] or {}, event["alarm"]
    location = device["location"] or {}
    moment = utc(event["time"])

    def when(value: datetime) -> Any:
        return value if postgres else value.isoformat(timespec="microseconds")

    def as_json(value: Any) -> str:
        return dump_json(value).decode()

    return (
        event["id"], event["type"], when(moment), device["dev_eui"], device["name"], device["device_type"],
        device["municipality"], event["message"], alarm["name"] if alarm else None,
        (bool(alarm["active"]) if postgres else int(bool(alarm["active"]))) if alarm else None,
        radio.get("f_cnt"), radio.get("f_port"), radio.get("rssi_dbm"), radio.get("snr_db"),
        radio.get("gateway_count"), location.get("lat"), location.get("lon"),
        as_json(event["fields"]), as_json(event["derived"]), as_json(event["detail"]), as_json(device["tags"]),
        as_json(event), when(stored_at),
    )
