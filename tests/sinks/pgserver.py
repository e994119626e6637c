"""A throw-away real PostgreSQL server on 127.0.0.1 (Debian package `postgresql`), for the SQL sink tests."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import free_port


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _as_server_user() -> tuple[list[str], int | None, int | None]:
    """PostgreSQL refuses to run as root; as root, run it as the Debian package's `postgres` user."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL as")
    runuser = shutil.which("runuser")
    if not runuser:
        pytest.skip("running as root and 'runuser' is missing")
    return [runuser, "-u", "postgres", "--"], account.pw_uid, account.pw_gid


@contextmanager
def postgres_server(timeout_s: float = 60) -> Iterator[str]:
    """Yield a libpq DSN for a fresh cluster (trust auth, fsync off); stop and delete it afterwards."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries not found: install the Debian package 'postgresql' (make setup)")
    prefix, uid, gid = _as_server_user()
    workdir = tempfile.mkdtemp(prefix="tingbro-pg-")
    data = os.path.join(workdir, "data")
    if uid is not None and gid is not None:
        os.chown(workdir, uid, gid)
    port = free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=timeout_s, cwd=workdir)

    started = False
    try:
        run(initdb, "-D", data, "-A", "trust", "-U", "tingbro", "-E", "UTF8", "--no-sync", "--no-instructions")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} -c fsync=off -c full_page_writes=off"
        run(pg_ctl, "-D", data, "-l", os.path.join(workdir, "server.log"), "-o", options, "-w", "-t", "30", "start")
        started = True
        yield f"host=127.0.0.1 port={port} user=tingbro dbname=postgres"
    finally:
        if started:
            run(pg_ctl, "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(workdir, ignore_errors=True)
