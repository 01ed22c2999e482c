"""The sandbox's shared machinery: requests, accounts and tokens, faults, quotas, the post ledger.

Each platform emulator (one module per platform) is a :class:`Platform` with routes;
the :class:`~publisher.sandbox.server.Sandbox` serves them all over real HTTP on
loopback, applies injected faults around the handlers, and keeps one ledger of every
post made, so tests can count duplicates.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

Handler = Callable[["Request"], "Response"]


class Drop(Exception):
    """Close the connection without answering (a dropped connection, a lost response)."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    raw: BaseHTTPRequestHandler
    params: dict[str, str] = field(default_factory=dict)  # from the route pattern
    account: Account | None = None
    consumed: int = 0  # body bytes read off the wire, a cut-short transfer's included
    _body: bytes | None = None

    @property
    def length(self) -> int:
        return int(self.headers.get("content-length") or 0)

    def body(self) -> bytes:
        if self._body is None:
            self._body = self.raw.rfile.read(self.length) if self.length else b""
            self.consumed += len(self._body)
        return self._body

    def read_partially(self) -> bytes:
        """Read half the body, as a transfer cut mid-chunk delivers it; the caller drops."""
        part = self.raw.rfile.read(self.length // 2) if self.length else b""
        self.consumed += len(part)
        return part

    def json(self) -> Any:
        body = self.body()
        return json.loads(body) if body else {}

    def form(self) -> dict[str, str]:
        """Urlencoded or multipart form fields (files as bytes decoded latin-1)."""
        kind = self.headers.get("content-type", "")
        if kind.startswith("multipart/form-data"):
            return {k: v.decode("latin-1") for k, v in self.multipart().items()}
        return {k: v[-1] for k, v in parse_qs(self.body().decode()).items()}

    def multipart(self) -> dict[str, bytes]:
        """Parse a multipart/form-data body into {field name: bytes}."""
        boundary = re.search(r"boundary=\"?([^\";]+)", self.headers.get("content-type", ""))
        if not boundary:
            return {}
        fields = {}
        for part in self.body().split(b"--" + boundary.group(1).encode()):
            head, _, data = part.partition(b"\r\n\r\n")
            name = re.search(rb'name="([^"]+)"', head)
            if name:
                fields[name.group(1).decode()] = data.removesuffix(b"\r\n")
        return fields

    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        return token.strip() if scheme.lower() in ("bearer", "oauth") and token else None


@dataclass
class Response:
    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            self.headers.setdefault("Content-Type", "text/html; charset=utf-8")
            return self.body.encode()
        self.headers.setdefault("Content-Type", "application/json; charset=UTF-8")
        return json.dumps(self.body).encode()


def redirect(location: str) -> Response:
    return Response(302, b"", {"Location": location})


# -- accounts and tokens --------------------------------------------------------------


@dataclass(frozen=True)
class TokenPolicy:
    """How a platform issues tokens (platforms.md): lifetimes, rotation."""

    access_s: float = 3600
    refresh_s: float | None = None  # None: refresh tokens do not expire
    rotate: bool = False  # a refresh returns a new refresh token, the old one dies
    inherit_expiry: bool = False  # the new refresh token keeps the old one's expiry


@dataclass
class Account:
    platform: str
    account_id: str
    name: str
    private: bool = False


@dataclass
class _Token:
    value: str
    account: Account
    expires: float
    refresh: bool = False
    alive: bool = True


class Accounts:
    """OAuth 2 on the emulator's side: codes, access and refresh tokens, expiry, rotation.

    With a ``path``, accounts and tokens survive a restart (the demo's sandbox channels
    stay connected across ``make run``s).
    """

    def __init__(self, clock: Callable[[], float] = time.time, path: Path | None = None) -> None:
        self.clock = clock
        self.path = path
        self._lock = threading.Lock()
        self._accounts: dict[tuple[str, str], Account] = {}
        self._codes: dict[str, tuple[Account, str]] = {}  # code -> (account, redirect_uri)
        self._tokens: dict[str, _Token] = {}
        self.refreshes = 0
        if path is not None and path.exists():
            self._load(json.loads(path.read_text()))

    def _load(self, data: dict[str, Any]) -> None:
        for row in data["accounts"]:
            account = Account(**row)
            self._accounts[(account.platform, account.account_id)] = account
        for row in data["tokens"]:
            account = self._accounts[(row.pop("platform"), row.pop("account_id"))]
            self._tokens[row["value"]] = _Token(account=account, **row)

    def save(self) -> None:
        """Write accounts and tokens to ``path`` (when there is one)."""
        if self.path is None:
            return
        with self._lock:
            data = {
                "accounts": [asdict(a) for a in self._accounts.values()],
                "tokens": [
                    {
                        "value": t.value,
                        "expires": t.expires,
                        "refresh": t.refresh,
                        "alive": t.alive,
                        "platform": t.account.platform,
                        "account_id": t.account.account_id,
                    }
                    for t in self._tokens.values()
                ],
            }
        self.path.write_text(json.dumps(data))

    def account(self, platform: str, account_id: str, name: str = "") -> Account:
        with self._lock:
            key = (platform, account_id)
            if key not in self._accounts:
                self._accounts[key] = Account(platform, account_id, name or account_id)
            return self._accounts[key]

    def issue_code(self, account: Account, redirect_uri: str) -> str:
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = (account, redirect_uri)
        return code

    def redeem_code(self, code: str, redirect_uri: str) -> Account | None:
        with self._lock:
            found = self._codes.pop(code, None)
        if found is None or (redirect_uri and found[1] != redirect_uri):
            return None
        return found[0]

    def grant(
        self, account: Account, policy: TokenPolicy, *, refresh_expires: float | None = None
    ) -> dict[str, Any]:
        """Issue an access token (and a refresh token); return the OAuth token fields."""
        now = self.clock()
        access = _Token("at_" + secrets.token_urlsafe(18), account, now + policy.access_s)
        refresh_until = refresh_expires or (
            now + policy.refresh_s if policy.refresh_s is not None else now + 10 * 365 * 86400
        )
        refresh = _Token("rt_" + secrets.token_urlsafe(18), account, refresh_until, refresh=True)
        with self._lock:
            self._tokens[access.value] = access
            self._tokens[refresh.value] = refresh
        self.save()
        return {
            "access_token": access.value,
            "expires_in": int(policy.access_s),
            "refresh_token": refresh.value,
            "refresh_expires_in": int(refresh_until - now),
            "token_type": "Bearer",
            "account": account,
        }

    def use_refresh(self, value: str, policy: TokenPolicy) -> dict[str, Any] | None:
        """Trade a refresh token; None when it is unknown, dead or expired."""
        now = self.clock()
        with self._lock:
            token = self._tokens.get(value)
            if token is None or not token.refresh or not token.alive or token.expires <= now:
                return None
            self.refreshes += 1
            if policy.rotate:
                token.alive = False
        if not policy.rotate:
            access = _Token("at_" + secrets.token_urlsafe(18), token.account, now + policy.access_s)
            with self._lock:
                self._tokens[access.value] = access
            self.save()
            return {
                "access_token": access.value,
                "expires_in": int(policy.access_s),
                "refresh_token": value,
                "refresh_expires_in": int(token.expires - now),
                "token_type": "Bearer",
                "account": token.account,
            }
        keep = token.expires if policy.inherit_expiry else None
        return self.grant(token.account, policy, refresh_expires=keep)

    def check(self, value: str | None) -> Account | None:
        """Return the account an access token stands for, if it is valid now."""
        if not value:
            return None
        with self._lock:
            token = self._tokens.get(value)
        if token is None or token.refresh or not token.alive or token.expires <= self.clock():
            return None
        return token.account

    def expire(self, value: str | None) -> None:
        with self._lock:
            if value in self._tokens:
                self._tokens[value].expires = 0
        self.save()

    def revoke_refresh_tokens(self, account: Account) -> None:
        with self._lock:
            for token in self._tokens.values():
                if token.refresh and token.account is account:
                    token.alive = False
        self.save()


# -- faults ---------------------------------------------------------------------------

FAULT_KINDS = ("drop", "error", "rate", "expire_token", "quota", "lose_response")


@dataclass
class Fault:
    """Misbehave on matching requests: ``times`` of them, or each with ``probability``."""

    platform: str
    step: str  # the handler's step name ("chunk", "init", "publish", …) or "*"
    kind: str
    times: int = 1
    probability: float | None = None
    status: int = 503
    retry_after: float = 1.0
    hits: int = 0


class Faults:
    """Injected misbehaviour, matched by platform and step, on demand or at random."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._random = random.Random(seed)

    def add(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault.kind!r}; use one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, platform: str, step: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.platform not in (platform, "*") or fault.step not in (step, "*"):
                    continue
                if fault.probability is not None:
                    if self._random.random() < fault.probability:
                        fault.hits += 1
                        return fault
                    continue
                if fault.times > 0:
                    fault.times -= 1
                    fault.hits += 1
                    return fault
            return None


# -- quotas and caps --------------------------------------------------------------------


class Buckets:
    """Counters over windows: daily quotas (reset at a fixed hour), rolling caps, rates."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._events: dict[str, list[tuple[float, int]]] = {}
        self._exhausted: dict[str, float] = {}

    def spend(self, name: str, cost: int, limit: int, window_s: float) -> float | None:
        """Spend ``cost`` from bucket ``name``; return None, or seconds until it has room."""
        now = self.clock()
        with self._lock:
            until = self._exhausted.get(name)
            if until is not None and until > now:
                return until - now
            events = [(at, n) for at, n in self._events.get(name, []) if at > now - window_s]
            used = sum(n for _, n in events)
            if used + cost > limit:
                oldest = min(at for at, _ in events) if events else now
                return max(1.0, oldest + window_s - now)
            events.append((now, cost))
            self._events[name] = events
            return None

    def used(self, name: str, window_s: float) -> int:
        now = self.clock()
        with self._lock:
            return sum(n for at, n in self._events.get(name, []) if at > now - window_s)

    def exhaust(self, name: str, for_s: float) -> None:
        with self._lock:
            self._exhausted[name] = self.clock() + for_s


# -- the post ledger ----------------------------------------------------------------------


@dataclass
class Post:
    platform: str
    account_id: str
    remote_id: str
    sha256: str
    size: int
    title: str
    caption: str
    created_at: float
    scheduled_at: float | None = None
    status: str = "published"
    extra: dict[str, Any] = field(default_factory=dict)


class Ledger:
    """Every post every emulator made: what tests count to prove nothing was posted twice."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._posts: list[Post] = []
        if path is not None and path.exists():
            lines = path.read_text().splitlines()
            self._posts = [Post(**json.loads(line)) for line in lines if line.strip()]

    def add(self, post: Post) -> Post:
        with self._lock:
            self._posts.append(post)
            if self.path is not None:  # one JSON line a post: appending stays cheap
                with self.path.open("a") as out:
                    out.write(json.dumps(asdict(post)) + "\n")
        return post

    def find(self, platform: str, remote_id: str) -> Post | None:
        with self._lock:
            return next(
                (p for p in self._posts if p.platform == platform and p.remote_id == remote_id),
                None,
            )

    def posts(self, platform: str | None = None) -> list[Post]:
        with self._lock:
            return [p for p in self._posts if platform in (None, p.platform)]

    def duplicates(self) -> dict[tuple[str, str, str], int]:
        """Return {(platform, account, content sha256): count} for content posted twice."""
        counts: dict[tuple[str, str, str], int] = {}
        for post in self.posts():
            key = (post.platform, post.account_id, post.sha256)
            counts[key] = counts.get(key, 0) + 1
        return {key: n for key, n in counts.items() if n > 1}


# -- uploaded bytes ------------------------------------------------------------------------


@dataclass
class _Received:
    """One session's file: its lock, and a hash kept up while bytes arrive in order."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    digest: Any = field(default_factory=hashlib.sha256)
    hashed: int = 0  # bytes handed to the hasher, in order
    void: bool = False  # bytes were written twice: hash the file when asked
    pending: Future | None = None  # the hasher's latest update of this session


class Uploads:
    """Bytes received per upload session, written at their offsets into files on disk.

    Sessions write in parallel; each keeps a running SHA-256 of what arrived in order,
    updated by one background thread (in arrival order), so neither a chunk's answer nor
    the ledger's hash of a finished upload waits for hashing the whole file.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._received: dict[str, _Received] = {}
        self._executor: ThreadPoolExecutor | None = None
        self.received_bytes = 0  # every byte that arrived, resent ones included

    def path(self, session_id: str) -> Path:
        return self.folder / f"{session_id}.part"

    def close(self) -> None:
        """Let the hasher finish what it was given, then end its thread."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def _hash_later(self, digest: Any, data: bytes) -> Future:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="sandbox-hash")
            return self._executor.submit(digest.update, data)

    def write(self, session_id: str, offset: int, data: bytes) -> None:
        path = self.path(session_id)
        with self._lock:
            self.received_bytes += len(data)
            received = self._received.setdefault(session_id, _Received())
        with received.lock:
            # Hashing (on the hasher's thread) overlaps writing the file (on this one).
            if offset == received.hashed:
                received.pending = self._hash_later(received.digest, data)
                received.hashed += len(data)
            elif offset < received.hashed:
                received.void = True
            with path.open("r+b" if path.exists() else "w+b") as fh:
                fh.seek(offset)
                fh.write(data)

    def size(self, session_id: str) -> int:
        path = self.path(session_id)
        return path.stat().st_size if path.exists() else 0

    def sha256(self, session_id: str) -> str:
        received = self._received.get(session_id)
        if received is not None:
            with received.lock:
                if not received.void and received.hashed == self.size(session_id):
                    if received.pending is not None:
                        received.pending.result()
                    return received.digest.copy().hexdigest()
        digest = hashlib.sha256()
        with self.path(session_id).open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()


def new_id(prefix: str = "") -> str:
    return prefix + secrets.token_hex(8)


# -- platforms ---------------------------------------------------------------------------


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    step: str
    auth: bool


class Platform:
    """An emulated platform: its routes, its token policy, and the sandbox's services."""

    name: str = ""
    display_name: str = ""
    policy: TokenPolicy = TokenPolicy()

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.routes: list[Route] = []
        self.register()

    @property
    def accounts(self) -> Accounts:
        return self.sandbox.accounts

    @property
    def ledger(self) -> Ledger:
        return self.sandbox.ledger

    @property
    def buckets(self) -> Buckets:
        return self.sandbox.buckets

    @property
    def uploads(self) -> Uploads:
        return self.sandbox.uploads

    def clock(self) -> float:
        return self.sandbox.clock()

    def register(self) -> None:
        """Add the platform's routes with :meth:`route`."""

    def route(
        self, method: str, pattern: str, handler: Handler, *, step: str, auth: bool = True
    ) -> None:
        self.routes.append(Route(method, re.compile(f"^{pattern}$"), handler, step, auth))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method == method:
                return route, found.groupdict()
        return None

    # Overridden by each platform: its error envelope.
    def keep_partial(self, request: Request, data: bytes) -> None:
        """Keep what arrived of a chunk whose connection dropped, where the protocol does.

        Resumable protocols (YouTube's, Meta's rupload) persist the bytes that arrived
        and say so when asked; chunked ones (TikTok, Douyin, Kuaishou) keep whole chunks
        only, which is this default.
        """

    def error(self, status: int, code: str, message: str) -> Response:
        return Response(status, {"error": {"code": code, "message": message}})

    def unauthorized(self) -> Response:
        return self.error(401, "access_token_invalid", "The access token is invalid or expired.")

    def rate_limited(self, retry_after: float) -> Response:
        response = self.error(429, "rate_limit_exceeded", "Too many requests.")
        response.headers["Retry-After"] = str(int(max(1, retry_after)))
        return response

    def quota_exceeded(self, retry_after: float) -> Response:
        return self.rate_limited(retry_after)

    def consent_page(self, request: Request) -> Response:
        """The platform's "Authorize Hookline?" page; ``auto=1`` approves at once (tests)."""
        query = request.query
        redirect_uri, state = query.get("redirect_uri", ""), query.get("state", "")
        account = self.accounts.account(
            self.name, query.get("account", "sandbox-account"), f"Sandbox {self.display_name}"
        )
        if query.get("auto") == "1" or request.method == "POST":
            code = self.accounts.issue_code(account, redirect_uri)
            return redirect(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")
        page = (
            f"<!doctype html><title>{self.display_name} sandbox</title>"
            f"<h1>{self.display_name} (sandbox)</h1><p>Allow Hookline to publish as "
            f"{account.name}?</p><form method=post><button>Allow</button></form>"
        )
        return Response(200, page)


def iter_chunks(path: Path, size: int) -> Iterator[bytes]:
    with path.open("rb") as fh:
        yield from iter(lambda: fh.read(size), b"")
