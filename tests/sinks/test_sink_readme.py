"""Every `[[sinks]]` example in the sinks README builds (so the documented options stay real)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT
from tingbro.sinks import build_sink

README = ROOT / "bridge" / "tingbro" / "sinks" / "README.md"


def sink_tables() -> list[dict]:
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    return [table for block in blocks for table in tomllib.loads(block).get("sinks", [])]


def test_readme_has_an_example_of_every_kind() -> None:
    assert {table["kind"] for table in sink_tables()} == {"webhook", "mqtt", "ngsi_ld", "sql", "os2iot"}


@pytest.mark.parametrize("index", range(len(sink_tables())))
def test_readme_example_builds(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = dict(sink_tables()[index])
    for key, value in table.items():
        if key.endswith("_env"):
            monkeypatch.setenv(value, "example-secret")
    if "api_keys_file" in table:
        keys = tmp_path / "keys.json"
        keys.write_text('{"0102030405060708": "example-key"}')
        table["api_keys_file"] = str(keys)
    if "path" in table:
        table["path"] = str(tmp_path / "events.sqlite3")
    sink = build_sink(table["name"], table["kind"], table)
    assert sink.name == table["name"]
