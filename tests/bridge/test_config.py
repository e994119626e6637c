"""`tingbro check-config` and the config loader: clear one-line errors, secrets from the environment only."""

from __future__ import annotations

from pathlib import Path

import pytest
from bridgehelp import SECRETS, cli_env, config_text
from conftest import ROOT, run_cli
from tingbro.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(text)
    return path


GOOD = config_text(Path("outbox.sqlite3"), 8090, "http://127.0.0.1:9/hook")


def test_good_config_loads_with_secrets_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in cli_env().items():
        monkeypatch.setenv(name, value)
    config = load_config(write(tmp_path, GOOD))
    assert config.http.token == "Bearer " + SECRETS[0]
    assert config.storage.path == tmp_path / "outbox.sqlite3"
    assert set(SECRETS) <= set(config.secrets) | {SECRETS[0]}
    assert config.sinks[0].name == "hook" and config.sinks[0].kind == "webhook"
    assert config.server.event_loop == "auto" and config.http.fast_path and config.http.request_timeout_s == 10


@pytest.mark.parametrize(("change", "message"), [
    (("[server]", "[server]\nbogus = 1"), "[server] unknown keys: bogus"),
    (("port = 8090", 'port = "8090"'), "[server] port must be int"),
    (('token_env = "TB_INGEST_TOKEN"', 'token_env = "TB_UNSET_VARIABLE"'), "TB_UNSET_VARIABLE (token_env) is not set"),
    (('kind = "webhook"', 'kind = "carrier-pigeon"'), "unknown kind 'carrier-pigeon'"),
    (('url = "http://127.0.0.1:9/hook"', 'url = "ftp://x"'), "option 'url' must be an absolute http"),
    (("retry_max_s = 0.5", "retry_max_s = -1"), "[delivery] retry_max_s must be between"),
    (("[storage]", "[storage\n"), "is not valid TOML"),
    (("enabled = true", "enabled = false"), "enable at least one ingest"),
    (("[server]", '[server]\nevent_loop = "trio"'), "[server] event_loop must be one of asyncio, uvloop, auto"),
    (("enabled = true", "enabled = true\nrequest_timeout_s = 0"), "[ingest.http] request_timeout_s must be between"),
])
def test_check_config_reports_one_line_and_exit_2(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = write(tmp_path, GOOD.replace(*change, 1))
    result = run_cli("check-config", "--config", str(path), env=cli_env())
    assert result.returncode == 2, result.stdout
    assert message in result.stderr and result.stderr.count("\n") == 1
    for secret in SECRETS:
        assert secret not in result.stderr


def test_missing_file_and_example_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    env = dict(cli_env(), TINGBRO_INGEST_TOKEN="a", WEBHOOK_TOKEN="b", WEBHOOK_HMAC_SECRET="c")
    result = run_cli("check-config", "--config", str(ROOT / "bridge" / "tingbro.example.toml"), env=env)
    assert result.returncode == 0 and "municipality (webhook)" in result.stdout
