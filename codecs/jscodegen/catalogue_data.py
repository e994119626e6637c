"""The catalogue reduced to what the JS codecs need, with the derived numbers precomputed."""

from __future__ import annotations

from typing import Any

from tingcodec import catalogue

JS_SAFE_INT = 2**53 - 1


class CatalogueShapeError(ValueError):
    """The catalogue holds something the generated JS cannot represent exactly."""


def wire_bounds(field: dict[str, Any]) -> tuple[int, int]:
    """Wire integer range of an int field, computed exactly as tingcodec's decoder does."""
    return (field["min"] * field["scale"]) // field["step"], (field["max"] * field["scale"]) // field["step"]


def _int_field(field: dict[str, Any]) -> dict[str, Any]:
    for key in ("scale", "step"):
        if type(field[key]) is not int or field[key] < 1:
            raise CatalogueShapeError(f"field {field['name']}: {key} must be a positive integer")
    wire_min, wire_max = wire_bounds(field)
    if max(abs(wire_min), abs(wire_max)) * field["step"] > JS_SAFE_INT:
        raise CatalogueShapeError(f"field {field['name']}: wire range beyond 2^53 cannot be exact in JS")
    data = {"name": field["name"], "kind": "int", "optional": field["optional"], "unit": field["unit"],
            "scale": field["scale"], "step": field["step"], "min": field["min"], "max": field["max"],
            "wire_min": wire_min, "wire_max": wire_max}
    if "default" in field:
        data["default"] = field["default"]
    return data


def _list_field(field: dict[str, Any]) -> dict[str, Any]:
    item = []
    for sub in field["item"]:
        sub_data = {"name": sub["name"], "width": sub["width"], "min": sub["min"], "max": sub["max"]}
        if sub.get("values") is not None:
            sub_data["values"] = list(sub["values"])
        item.append(sub_data)
    width = sum(sub["width"] for sub in field["item"])
    if width > 53:
        raise CatalogueShapeError(f"field {field['name']}: {width}-bit list items cannot be exact in JS")
    return {"name": field["name"], "kind": "list", "optional": field["optional"], "item": item, "width": width,
            "min_items": field["min_items"], "max_items": field["max_items"]}


def field_data(field: dict[str, Any]) -> dict[str, Any]:
    kind = field["kind"]
    if kind == "int":
        return _int_field(field)
    if kind == "flags":
        if len(field["bits"]) > 32:
            raise CatalogueShapeError(f"field {field['name']}: more than 32 flag bits")
        return {"name": field["name"], "kind": "flags", "optional": field["optional"], "bits": list(field["bits"])}
    if kind == "enum":
        return {"name": field["name"], "kind": "enum", "optional": field["optional"], "values": list(field["values"])}
    if kind == "list":
        return _list_field(field)
    raise CatalogueShapeError(f"field {field['name']}: unknown kind {kind!r}")


def messages_data(device: str) -> list[dict[str, Any]]:
    """Per message: name, direction, fport, required (count of non-optional fields), fields."""
    return [{"name": msg["name"], "direction": msg["direction"], "fport": msg["fport"],
             "required": sum(1 for field in msg["fields"] if not field["optional"]),
             "fields": [field_data(field) for field in msg["fields"]]}
            for msg in catalogue.MESSAGES[device]]


def _field_summary(field: dict[str, Any]) -> str:
    mark = "?" if field["optional"] else ""
    if field["kind"] == "int":
        return f"{field['name']}{mark} {field['min']}..{field['max']}"
    if field["kind"] == "flags":
        return "|".join(field["bits"]) + mark
    if field["kind"] == "enum":
        return f"{field['name']}{mark} ({'/'.join(field['values'])})"
    subs = ", ".join(sub["name"] for sub in field["item"])
    return f"{field['name']}{mark} [{field['min_items']}..{field['max_items']} x {{{subs}}}]"


def message_table_lines(device: str) -> list[str]:
    """One line per message for the codec's header comment."""
    return [f"{msg['fport']:>3} {msg['direction']:<4} {msg['name']}: "
            + ", ".join(_field_summary(field) for field in msg["fields"])
            for msg in catalogue.MESSAGES[device]]
