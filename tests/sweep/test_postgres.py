"""PostgreSQL storage for real: a throw-away server on loopback, 3 worker processes on one sweep, one killed.

Needs Debian's ``postgresql`` package (``initdb`` / ``pg_ctl`` under /usr/lib/postgresql/*/bin). Without it the
test skips, except in CI (``$CI`` set), where it fails. As root, the server runs as the ``postgres`` user, since
``initdb`` refuses root.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from .helpers import check_accounting, cli, write_sweep
from .test_workers import SLOWER, kill_mid_trial


def _binaries() -> tuple[str, str] | None:
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(f"{bindir}/initdb") and os.path.exists(f"{bindir}/pg_ctl"):
            return f"{bindir}/initdb", f"{bindir}/pg_ctl"
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    return (initdb, pg_ctl) if initdb and pg_ctl else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    found = _binaries()
    if found is None:
        msg = "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        if os.environ.get("CI"):
            pytest.fail(f"in CI the PostgreSQL storage test must run: {msg}")
        pytest.skip(msg)
    initdb, pg_ctl = found
    root = Path(tempfile.mkdtemp(prefix="gb-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, sock, port = root / "data", root / "sock", _free_port()
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True)  # noqa: E731
    run("mkdir", str(sock))
    run(initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    run(pg_ctl, "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60", "start", "-o",
        f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off -c max_connections=100")
    try:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE sweep")
        conn.close()
        yield f"postgresql://postgres@127.0.0.1:{port}/sweep"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_three_workers_on_postgresql_account_for_every_trial_and_final_row_once(tmp_path, postgres_url):
    # trials of about 2 s, not 0.3 s: with 6-epoch trials the sweep could finish between two polls of
    # kill_mid_trial, which then never saw one trial complete while another ran (a CI failure, 2026-12-07)
    path = write_sweep(tmp_path, **{**SLOWER, "hparams": {**SLOWER["hparams"], "epochs": 40}})
    # grace well above the heartbeat: on a loaded 2-core machine a live worker can miss a few 1 s beats, and a
    # trial declared dead while its worker still runs would then be both retried and written
    beat = ("--storage", postgres_url, "--heartbeat", "1", "--grace", "10")
    # first attempt: killed mid-trial; the heartbeat lets the next attempt fail and retry the dead trials
    kill_mid_trial(path, signal.SIGKILL, 3, *beat, url=postgres_url)
    out = cli(str(path), "--workers", "3", "--threads", "1", "--quiet", *beat, cwd=tmp_path).stdout
    counts = check_accounting(path, postgres_url)
    assert counts["complete"] + counts["pruned"] >= 4 and counts["final"] == 4
    assert counts["stale"] >= 1
    assert len({line.split()[0] for line in out.splitlines() if line.startswith("[w")}) >= 2
