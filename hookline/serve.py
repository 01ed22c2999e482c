"""``hookline serve``: the web server plus supervised worker processes, stopped together.

Workers run in their own process groups, so a Ctrl-C in the terminal reaches only
this supervisor, which then stops them once, gracefully (each finishes or hands
back its running jobs), before it exits.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from types import FrameType

import click
from flask import Flask
from waitress import create_server

from hookline import migrate
from hookline.errors import HooklineError
from hookline.settings import Settings

log = logging.getLogger(__name__)

# A worker that dies sooner than this after starting is not restarted in a tight loop.
RESTART_DELAY_S = 2.0


class Supervisor:
    """Start worker processes, restart any that die, stop them all on request."""

    def __init__(self, count: int, grace_s: float) -> None:
        self.count = count
        self.grace_s = grace_s
        self.procs: list[subprocess.Popen[bytes]] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    def start(self) -> None:
        self.procs = [self._spawn() for _ in range(self.count)]
        self._thread.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "hookline", "worker"], start_new_session=True
        )

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            for index, proc in enumerate(self.procs):
                if proc.poll() is not None and not self._stopping.is_set():
                    log.error("worker %d exited with %s; restarting it", proc.pid, proc.returncode)
                    time.sleep(RESTART_DELAY_S)
                    self.procs[index] = self._spawn()

    def stop(self) -> None:
        self._stopping.set()
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_s
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # A second signal makes the worker hand its jobs back and exit at once.
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def serve(app: Flask, settings: Settings, *, workers: int | None = None) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, with ``workers`` worker processes beside it."""
    db = app.extensions["hookline"].db
    if not migrate.is_up_to_date(db.engine):
        raise HooklineError("The database is not migrated: run `hookline db upgrade` first.")
    count = settings.workers if workers is None else workers
    supervisor = Supervisor(count, grace_s=settings.job_lease_seconds)
    try:
        server = create_server(
            app,
            host=settings.host,
            port=settings.port,
            threads=settings.web_threads,
            # Room for multipart framing; the media store enforces the exact limit.
            max_request_body_size=settings.max_upload_bytes + 1024 * 1024,
            clear_untrusted_proxy_headers=True,
        )
    except OSError as exc:  # most often the port is taken by another server
        raise HooklineError(
            f"Cannot listen on {settings.host}:{settings.port} ({exc.strerror}). Stop what uses "
            "the port or choose another with HOOKLINE_PORT."
        ) from None
    sandbox = start_sandbox(settings) if settings.sandbox else None
    supervisor.start()

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Both signals, explicitly: a shell starting us in the background ignores SIGINT.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    address = f"http://{settings.host}:{settings.port}"
    click.echo(f"Hookline is running at {address} with {count} worker(s). Ctrl-C stops it.")
    if sandbox is not None:
        click.echo(f"The platform sandbox is at {sandbox.url} (HOOKLINE_SANDBOX=off turns it off).")
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # the way out: our handlers above raise it for SIGINT and SIGTERM
    finally:
        click.echo("\nStopping: web server closed; workers finish or hand back their jobs…")
        server.close()
        supervisor.stop()
        if sandbox is not None:
            sandbox.stop()
        click.echo("Stopped.")


def start_sandbox(settings: Settings):  # returns a publisher Sandbox (a domain type)
    """Start the platform emulators on loopback; their accounts and posts persist on disk."""
    from publisher.sandbox.server import Sandbox

    try:
        return Sandbox(settings.data_dir / "sandbox").start(port=settings.sandbox_port)
    except OSError as exc:
        raise HooklineError(
            f"Cannot start the platform sandbox on port {settings.sandbox_port} ({exc.strerror}): "
            "set HOOKLINE_SANDBOX_PORT, or HOOKLINE_SANDBOX=off."
        ) from None
