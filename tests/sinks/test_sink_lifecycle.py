"""Every sink kind: built from options alone, closed twice, closed without start, and filtered by device type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import free_port
from sinkhelp import make_event, run
from tingbro.sinks import SinkConfigError, build_sink
from tingbro.sinks.base import SINK_KINDS


def minimal_options(kind: str, tmp_path: Path) -> dict[str, Any]:
    url = f"http://127.0.0.1:{free_port()}"
    return {"webhook": {"url": url}, "mqtt": {"host": "127.0.0.1", "port": free_port()},
            "ngsi_ld": {"url": url}, "sql": {"path": str(tmp_path / "events.sqlite3")},
            "os2iot": {"url": url, "api_keys": {}}}[kind]


@pytest.mark.parametrize("kind", sorted(SINK_KINDS))
def test_lifecycle_is_idempotent(kind: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        never_started = build_sink(f"{kind}-a", kind, minimal_options(kind, tmp_path))
        await never_started.close()
        sink = build_sink(f"{kind}-b", kind, {**minimal_options(kind, tmp_path), "name": "ignored", "kind": kind,
                                              "device_types": ["lifebuoy"]})
        assert (sink.name, sink.kind, sink.secrets) == (f"{kind}-b", kind, ())
        await sink.start()
        await sink.start()
        await sink.deliver([make_event(1)])  # a fill_level event: filtered out, so no receiver is needed
        await sink.deliver([])
        await sink.close()
        await sink.close()

    run(scenario())


@pytest.mark.parametrize("kind", sorted(SINK_KINDS))
def test_unknown_option_is_rejected(kind: str, tmp_path: Path) -> None:
    with pytest.raises(SinkConfigError, match=f"sink '{kind}': unknown options \\['colour'\\]"):
        build_sink(kind, kind, {**minimal_options(kind, tmp_path), "colour": "blue"})
