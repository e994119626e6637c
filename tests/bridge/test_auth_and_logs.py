"""Acceptance: a wrong or missing token gets 401 and nothing is stored; tokens and keys never reach the logs."""

from __future__ import annotations

import io
import logging
import sqlite3
import time
from pathlib import Path

import chirp
from bridgehelp import INGEST_TOKEN, SECRETS, BridgeProcess, Receiver, config_text, post
from conftest import free_port
from tingbro.ingest.http import token_matches
from tingbro.logs import JsonFormatter, setup_logging


def stored_rows(db: Path) -> tuple[int, int]:
    connection = sqlite3.connect(db)
    try:
        return (connection.execute("SELECT count(*) FROM events").fetchone()[0],
                connection.execute("SELECT count(*) FROM dead_letters").fetchone()[0])
    finally:
        connection.close()


def test_wrong_or_missing_token_is_401_stores_nothing_and_no_secret_is_logged(tmp_path: Path) -> None:
    receiver = Receiver()  # down at first: the webhook's failures get logged too
    port = free_port()
    db = tmp_path / "outbox.sqlite3"
    (tmp_path / "bridge.toml").write_text(config_text(db, port, receiver.url, extra="[log]\nlevel = \"debug\""))
    log_path = tmp_path / "bridge.log"
    bridge = BridgeProcess(tmp_path / "bridge.toml", port, log_path).start()
    try:
        bridge.wait_ready()
        body = chirp.chirpstack_json(chirp.uplink())
        bad_tokens = [None, "", "Bearer", INGEST_TOKEN + "x", INGEST_TOKEN[:-1], INGEST_TOKEN.lower(),
                      INGEST_TOKEN.split()[1], "Bearer " + SECRETS[1]]
        for token in bad_tokens:
            status, answer = post(port, "up", body, token=token)
            assert status == 401, token
            assert INGEST_TOKEN.split()[1].encode() not in answer
        assert post(port, "up", b"\x00" * 10, content_type="application/octet-stream", token="nope")[0] == 401
        time.sleep(0.3)
        assert stored_rows(db) == (0, 0), "a rejected request stored something"
        # The right token is accepted; the sink is down, so delivery failures are logged while retrying.
        assert post(port, "up", body)[0] == 200
        time.sleep(1.0)
        receiver.rejecting = lambda event: True  # now a permanent failure: dead letter with the sink's reason
        receiver.start()
        deadline = time.monotonic() + 10
        while stored_rows(db)[1] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stored_rows(db) == (1, 1)
    finally:
        assert bridge.terminate() == 0
        receiver.stop()
    text = log_path.read_text()
    assert '"status": 401' in text and "delivery failed" in text and "dead-lettered" in text
    for secret in SECRETS:
        assert secret not in text, "a secret reached the log"
    assert "Authorization" not in text or "Bearer " not in text


def test_token_comparison_is_exact() -> None:
    assert token_matches("Bearer abc", "Bearer abc")
    assert not token_matches("Bearer abd", "Bearer abc")
    assert not token_matches(None, "Bearer abc")
    assert not token_matches("Bearer abc\u00e6", "Bearer abc")


def test_log_formatter_blanks_secrets_in_messages_fields_and_errors() -> None:
    stream = io.StringIO()
    setup_logging("debug", ["s3cret-value", "k3y"], stream)
    logger = logging.getLogger("tingbro.test")
    logger.info("token is s3cret-value", extra={"detail": {"header": "Bearer s3cret-value"}})
    try:
        raise ValueError("bad key k3y")
    except ValueError:
        logger.exception("failed")
    text = stream.getvalue()
    assert "s3cret-value" not in text and "k3y" not in text and text.count("***") >= 3
    assert isinstance(logging.getLogger().handlers[0].formatter, JsonFormatter)
    logging.getLogger().handlers.clear()
