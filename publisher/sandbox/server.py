"""The sandbox: every platform emulator behind one HTTP server on loopback.

``/<platform>/...`` is that platform's API (its paths as documented, under the prefix);
``/_sandbox/...`` is the control room: inject faults, list posts, reset. Faults are
applied around the handlers, so every emulator can drop a connection mid-chunk,
answer 5xx or 429, expire the caller's token, run out of quota, or do the work and
lose the answer.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import requests

from publisher.sandbox import insights
from publisher.sandbox.audience import Audience, Content
from publisher.sandbox.core import (
    Accounts,
    Buckets,
    Drop,
    Fault,
    Faults,
    Ledger,
    Platform,
    Request,
    Response,
    Uploads,
    new_id,
)

log = logging.getLogger(__name__)

# One module per platform, each with an ``Emulator`` class (a Platform).
EMULATORS = {
    "youtube": "publisher.sandbox.youtube",
    "tiktok": "publisher.sandbox.tiktok",
    "instagram": "publisher.sandbox.instagram",
    "facebook": "publisher.sandbox.facebook",
    "douyin": "publisher.sandbox.douyin",
    "kuaishou": "publisher.sandbox.kuaishou",
}


class Sandbox:
    """All emulators, their shared accounts, faults, quotas and post ledger."""

    def __init__(
        self,
        folder: Path,
        *,
        platforms: tuple[str, ...] | None = None,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.accounts = Accounts(clock, folder / "accounts.json")
        self.faults = Faults(seed)
        self.buckets = Buckets(clock)
        self.ledger = Ledger(folder / "posts.jsonl")
        self.uploads = Uploads(folder / "uploads")
        self.audience = Audience.load(folder, seed)
        self.glitches = insights.Glitches()
        self.requests = 0
        self.wire_bytes = 0  # request bodies read, dropped transfers included
        self._count_lock = threading.Lock()
        self.platforms: dict[str, Platform] = {}
        for name in platforms or tuple(EMULATORS):
            module = importlib.import_module(EMULATORS[name])
            self.platforms[name] = module.Emulator(self)
        insights.install(self)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- serving ---------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Sandbox:
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sandbox", daemon=True
        )
        self._thread.start()
        log.info("platform sandbox at %s", self.url)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.uploads.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "the sandbox is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def endpoints(self, platform: str) -> dict[str, str]:
        """Return the base URLs a client of ``platform`` uses to talk to this sandbox."""
        base = f"{self.url}/{platform}"
        return {"api": base, "upload": base, "auth": base}

    # -- dispatch ---------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        self.requests += 1
        if request.path.startswith("/_sandbox/"):
            return self._control(request)
        name, _, rest = request.path.lstrip("/").partition("/")
        platform = self.platforms.get(name)
        if platform is None:
            return Response(404, {"error": f"no platform {name!r} in this sandbox"})
        request.path = "/" + rest
        if request.path == "/oauth/authorize":
            return platform.consent_page(request)
        found = platform.match(request.method, request.path)
        if found is None:
            return platform.error(404, "not_found", f"no route {request.method} {request.path}")
        route, params = found
        request.params = params
        fault = self.faults.take(name, route.step)
        token = (
            request.bearer()
            or request.query.get("access_token")
            or request.headers.get("access-token")
        )
        if fault is not None and fault.kind == "expire_token":
            self.accounts.expire(token)
            fault = None
        if route.auth:
            request.account = self.accounts.check(token)
            if request.account is None:
                return platform.unauthorized()
        return self._with_fault(platform, route.handler, request, fault)

    def _with_fault(
        self, platform: Platform, handler: Any, request: Request, fault: Fault | None
    ) -> Response:
        if fault is None:
            return handler(request)
        if fault.kind == "drop":
            platform.keep_partial(request, request.read_partially())
            raise Drop
        if fault.kind == "error":
            request.body()
            return platform.error(fault.status, "internal_error", "The server had a problem.")
        if fault.kind == "rate":
            request.body()
            return platform.rate_limited(fault.retry_after)
        if fault.kind == "quota":
            request.body()
            return platform.quota_exceeded(fault.retry_after)
        # lose_response: do the work, then never answer.
        handler(request)
        raise Drop

    # -- the control room -----------------------------------------------------------

    def _control(self, request: Request) -> Response:
        what = request.path.removeprefix("/_sandbox/")
        if what == "faults" and request.method == "POST":
            body = request.json()
            self.faults.add(Fault(**body))
            return Response(201, {"added": body})
        if what == "faults" and request.method == "DELETE":
            self.faults.clear()
            return Response(200, {"cleared": True})
        if what == "posts":
            platform = request.query.get("platform")
            return Response(200, {"posts": [asdict(p) for p in self.ledger.posts(platform)]})
        if what == "audience":
            return self._audience(request)
        if what == "stats":
            return Response(200, self.stats())
        if what == "sink" and request.method == "PUT":
            # A plain upload to compare the platforms' protocols with: the same server
            # reads the body the same way and stores it as a file of its own, as the
            # uploads are stored, nothing else.
            data = request.body()
            self.uploads.path(new_id("sink-")).write_bytes(data)
            return Response(200, {"received": len(data)})
        return Response(404, {"error": f"no control {what!r}"})

    def _audience(self, request: Request) -> Response:
        """GET: the ground truth and what the audience knows; POST: describe posts, set pace."""
        if request.method == "POST":
            body = request.json()
            if "time_scale" in body:
                self.audience.time_scale = float(body["time_scale"])
            for sha256, content in (body.get("contents") or {}).items():
                self.audience.describe(sha256, Content.from_dict(content))
            self.audience.save()
        return Response(200, json.loads(self.audience.path.read_text()))

    def count_wire(self, n: int) -> None:
        with self._count_lock:
            self.wire_bytes += n

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "received_bytes": self.uploads.received_bytes,
            "wire_bytes": self.wire_bytes,
            "posts": len(self.ledger.posts()),
            "duplicates": [[*key, n] for key, n in self.ledger.duplicates().items()],
            "refreshes": self.accounts.refreshes,
        }


def _handler_for(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without this, delayed ACKs cost ~40 ms.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query)),
                headers={k.lower(): v for k, v in self.headers.items()},
                raw=self,
            )
            try:
                response = sandbox.dispatch(request)
                request.body()  # a handler that ignored the body must still consume it
            except Drop:
                self._drop()
                return
            except Exception:  # an emulator bug must show up as a 500, not a hang
                log.exception("sandbox handler failed for %s %s", self.command, self.path)
                response = Response(500, {"error": "sandbox handler failed"})
            finally:
                if not parts.path.startswith("/_sandbox/"):  # the platforms' traffic only
                    sandbox.count_wire(request.consumed)
            payload = response.encoded()
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):  # the client may be gone already
                self.connection.shutdown(socket.SHUT_RDWR)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        def handle(self) -> None:
            # A client that dies mid-request (a killed worker) is no emulator error.
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                super().handle()

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("sandbox: " + format, *args)

    return Handler


def load_json(text: bytes) -> Any:
    return json.loads(text) if text else {}


def grant(authorize_url: str, *, account: str = "") -> str:
    """Click "Allow" on a sandbox consent page, as ``account``; return the authorization code."""
    extra = {"auto": "1", **({"account": account} if account else {})}
    answer = requests.get(f"{authorize_url}&{urlencode(extra)}", allow_redirects=False, timeout=10)
    code = parse_qs(urlsplit(answer.headers.get("Location", "")).query).get("code", [""])[0]
    if not code:
        raise RuntimeError(f"the sandbox consent page did not grant a code: {answer.status_code}")
    return code
