"""`hookline serve`: the web server and its worker processes, started and stopped together."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from testkit import PASSWORD, REPO, free_port, hookline_env, run_hookline

pytestmark = pytest.mark.slow

TIMEOUT = 5  # seconds, for each HTTP call


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def children(pid: int) -> dict[int, str]:
    """Return the live child processes of ``pid`` with their command lines."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name in parentheses may hold spaces; the parent pid follows it.
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found[int(stat.parent.name)] = cmdline
        except (FileNotFoundError, ProcessLookupError, IndexError):  # exited while we looked
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


class Server:
    """A `hookline serve --workers 2` process on a free port, killed if a test fails."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "serve.log"
        # A short lease makes the stop quick: it is also how long workers get to finish.
        self.env = hookline_env(
            data_dir, port=str(self.port), job_lease_seconds="2", job_poll_seconds="0.1"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hookline", "serve", "--workers", "2"],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self.proc

    def health(self) -> dict[str, Any] | None:
        try:
            response = requests.get(f"{self.url}/healthz", timeout=TIMEOUT)
        except requests.ConnectionError:  # not listening yet
            return None
        return response.json() if response.status_code == 200 else None

    def output(self) -> str:
        return self.log.read_text()

    def kill_leftovers(self, worker_pids: list[int]) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in worker_pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    env = hookline_env(tmp_path)
    new_user = ("user", "create", "ana", "--role", "publisher", "--password", PASSWORD)
    for command in (("db", "upgrade"), new_user):
        done = run_hookline(*command, env=env)
        assert done.returncode == 0, done.stderr
    return tmp_path


@pytest.fixture
def server(data_dir: Path) -> Iterator[tuple[Server, list[int]]]:
    server, worker_pids = Server(data_dir), []
    yield server, worker_pids
    server.kill_leftovers(worker_pids)


def sign_in(base: str, username: str) -> tuple[requests.Session, str]:
    """Sign in through the login form; return the session and its CSRF token."""
    http = requests.Session()
    form = http.get(f"{base}/login", timeout=TIMEOUT)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.text).group(1)
    response = http.post(
        f"{base}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        timeout=TIMEOUT,
    )
    assert [r.status_code for r in response.history] == [302], response.text
    assert response.url == f"{base}/"
    return http, token


def test_serve_runs_jobs_in_its_workers_and_stops_them_all_on_ctrl_c(server) -> None:
    server, worker_pids = server
    proc = server.start()

    health = wait_for(
        lambda: (h := server.health()) and h["scheduler"] and h,
        timeout=30,
        what="/healthz to be ok with a scheduler elected",
    )
    workers = children(proc.pid)
    worker_pids += [pid for pid, cmd in workers.items() if "hookline worker" in cmd]
    assert health["status"] == "ok" and len(worker_pids) == 2, workers
    assert int(health["scheduler"].split(":")[1]) in worker_pids  # elected among our workers

    http, token = sign_in(server.url, "ana")
    created = http.post(
        f"{server.url}/api/v1/jobs",
        json={"kind": "noop"},
        headers={"X-CSRFToken": token},
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    job_url = f"{server.url}/api/v1/jobs/{created.json()['id']}"
    job = wait_for(
        lambda: (j := http.get(job_url, timeout=TIMEOUT).json())["status"] == "succeeded" and j,
        timeout=20,
        what="the workers to run the job",
    )
    assert job["attempts"] == 1

    stopping = time.monotonic()
    proc.send_signal(signal.SIGINT)

    assert proc.wait(timeout=20) == 0, server.output()
    assert time.monotonic() - stopping < 20
    assert [pid for pid in worker_pids if alive(pid)] == []
    assert "with 2 worker(s)" in server.output() and "Stopped." in server.output()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/healthz", timeout=TIMEOUT)


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    port = free_port()
    done = run_hookline(
        "serve", "--workers", "2", env=hookline_env(tmp_path, port=str(port)), timeout=60
    )

    assert done.returncode != 0
    assert "Error: The database is not migrated: run `hookline db upgrade` first." in done.stderr
    assert "Traceback" not in done.stderr and "running at" not in done.stdout
