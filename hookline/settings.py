"""Hookline's settings: one immutable object, read from ``HOOKLINE_*`` variables.

Settings are read once, at an entry point (the CLI, ``wsgi.py``), with
:meth:`Settings.from_env`. Nothing here touches the environment or the disk at
import time. Every field carries its help text, which the README documents and a
test checks.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import secrets
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hookline.errors import SettingsError

PREFIX = "HOOKLINE_"


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Everything an operator can set. Derived defaults are filled in ``__post_init__``."""

    data_dir: Path = _setting(
        Path("var"), "Folder for the SQLite database, the media store and the generated secret key."
    )
    database_url: str = _setting(
        "",
        "SQLAlchemy URL of the database. Empty: SQLite at DATA_DIR/hookline.db. "
        "Teams and multi-machine setups use postgresql+psycopg://user@host/db.",
    )
    media_root: Path | None = _setting(
        None, "Root of the content-addressed media store. Empty: DATA_DIR/media."
    )
    secret_key: str = _setting(
        "",
        "Signs sessions and CSRF tokens. Empty: a random key is generated once into "
        "DATA_DIR/secret_key. Set it explicitly when several web processes share a database.",
    )
    public_url: str = _setting(
        "http://127.0.0.1:5000",
        "The address users open. An https:// URL turns on Secure cookies and HSTS.",
    )
    host: str = _setting("127.0.0.1", "Interface `hookline serve` binds to.")
    port: int = _setting(5000, "Port `hookline serve` listens on.")
    web_threads: int = _setting(8, "Request threads of the web server.")
    max_upload_mb: int = _setting(
        4096, "Largest episode master accepted by ingest (CLI, web form and API), in MiB."
    )
    session_hours: int = _setting(12, "How long a login lasts, in hours.")
    worker_concurrency: int = _setting(
        2,
        "Jobs one worker process runs at once (threads); "
        "`hookline worker --concurrency` overrides.",
    )
    workers: int = _setting(1, "Worker processes `hookline serve` starts beside the web server.")
    job_lease_seconds: float = _setting(
        30.0,
        "How long a claimed job stays reserved without a heartbeat; a job whose worker died "
        "is claimed again after this.",
    )
    job_poll_seconds: float = _setting(
        0.5, "Longest an idle worker sleeps before looking for due jobs again."
    )
    job_backoff_seconds: float = _setting(
        5.0, "First retry delay; each further attempt doubles it (with jitter)."
    )
    job_backoff_max_seconds: float = _setting(3600.0, "Longest retry delay.")
    job_retention_days: int = _setting(
        14, "Finished jobs older than this are pruned; dead-lettered jobs are kept."
    )
    scheduler: bool = _setting(
        True,
        "Whether workers compete to run the scheduler (recurring work). Exactly one runs it "
        "at a time, elected through a lock in the database.",
    )
    models_dir: Path | None = _setting(
        None,
        "Where `hookline models install` puts Whisper models and translation packages. "
        "Empty: DATA_DIR/models.",
    )
    whisper_model: str = _setting(
        "tiny.en",
        "Whisper model for transcription: a size installed with `hookline models install "
        "whisper SIZE` (tiny, base, small, medium, large-v3, …) or the path of a CTranslate2 "
        "model folder. tiny.en ships with Hookline (English only).",
    )
    whisper_device: str = _setting("cpu", "Where Whisper runs: cpu, cuda or auto.")
    whisper_compute_type: str = _setting(
        "int8", "Whisper's number format: int8 (fast on CPU), float16 (GPU), float32, …"
    )
    subtitle_profile: str = _setting(
        "vertical",
        "Subtitle rules: vertical (9:16 social, one short line) or broadcast (Netflix-style).",
    )
    translators: tuple[str, ...] = _setting(
        ("argos", "apertium", "llm"),
        "Translation backends to try, in order of preference, for each language pair: "
        "argos (offline neural), apertium (offline rule-based), llm (the LLM endpoint below).",
    )
    apertium: str = _setting("apertium", "The apertium command (Debian package apertium).")
    llm_url: str = _setting(
        "",
        "Base URL of an OpenAI-compatible chat-completions API for translation, "
        "e.g. http://127.0.0.1:8080/v1. Empty: no LLM backend.",
    )
    llm_model: str = _setting("", "Model name sent to the LLM endpoint.")
    llm_api_key: str = _setting("", "API key for the LLM endpoint, if it needs one.")
    tts_url: str = _setting(
        "",
        "Base URL of an OpenAI-compatible /v1/audio/speech API (Kokoro, Piper or cloud "
        "voices). Empty: dub with espeak-ng only.",
    )
    tts_model: str = _setting("", "Model name sent to the speech endpoint.")
    tts_api_key: str = _setting("", "API key for the speech endpoint, if it needs one.")
    http_timeout_seconds: float = _setting(
        60.0, "Longest wait for one answer from an LLM or speech endpoint."
    )
    max_stretch: float = _setting(
        1.2, "Fastest a dubbed line may be sped up to fit its slot (1.2 = 20 % faster)."
    )
    loudness_lufs: float = _setting(-14.0, "Integrated loudness of localized cuts, in LUFS.")
    true_peak_dbtp: float = _setting(-1.0, "Highest true peak of localized cuts, in dBTP.")
    localize_parallel: int = _setting(
        4,
        "Languages one worker process (or `hookline localize`) works on at once; a worker "
        "also stays within its concurrency.",
    )
    token_key: str = _setting(
        "",
        "Fernet key that encrypts platform tokens at rest. Empty: derived from the secret "
        "key. Changing it means reconnecting every channel.",
    )
    platform_apps: Path | None = _setting(
        None,
        "JSON file with Hookline's app credentials per platform: "
        '{"youtube": {"client_id": "…", "client_secret": "…"}, …}. Sandbox channels need none.',
    )
    sandbox: bool = _setting(
        True,
        "Run the platform sandbox (local emulators of every platform) beside the web server, "
        "for the demo and for trying things out.",
    )
    sandbox_port: int = _setting(5001, "Port of the platform sandbox (on 127.0.0.1).")
    collect_days: int = _setting(
        30,
        "Days after publication to keep collecting a post's metrics (hourly in the first 48 h, "
        "then daily); 0 stops collection.",
    )
    ffmpeg: str = _setting(
        "", "Path of the ffmpeg binary. Empty: the static build shipped by imageio-ffmpeg."
    )
    plugins: tuple[str, ...] = _setting(
        (), "Comma-separated Python modules imported by workers to register extra job kinds."
    )
    log_level: str = _setting("INFO", "Logging level: DEBUG, INFO, WARNING or ERROR.")

    def __post_init__(self) -> None:
        # Absolute from here on: a relative path would mean something else to each library
        # (Flask's send_file reads it against the app package, not the working directory).
        data_dir = Path(self.data_dir).expanduser().absolute()
        object.__setattr__(self, "data_dir", data_dir)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{data_dir / 'hookline.db'}")
        object.__setattr__(
            self, "media_root", Path(self.media_root or data_dir / "media").expanduser().absolute()
        )
        object.__setattr__(
            self, "models_dir", Path(self.models_dir or data_dir / "models").expanduser().absolute()
        )
        object.__setattr__(self, "plugins", tuple(self.plugins))
        object.__setattr__(self, "translators", tuple(self.translators))
        if self.max_upload_mb <= 0:
            raise SettingsError("HOOKLINE_MAX_UPLOAD_MB must be a positive number of MiB.")
        if not 1.0 <= self.max_stretch <= 2.0:
            raise SettingsError("HOOKLINE_MAX_STRETCH must be between 1.0 and 2.0.")
        if self.subtitle_profile not in ("vertical", "broadcast"):
            raise SettingsError("HOOKLINE_SUBTITLE_PROFILE must be vertical or broadcast.")
        if self.job_lease_seconds <= 0 or self.job_poll_seconds <= 0:
            raise SettingsError("Job lease and poll intervals must be positive seconds.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``HOOKLINE_*`` variables; unknown names are an error."""
        environ = os.environ if environ is None else environ
        fields = {f.name: f for f in dataclasses.fields(cls)}
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for key, raw in environ.items():
            if not key.startswith(PREFIX) or key in _NOT_SETTINGS:
                continue
            name = key[len(PREFIX) :].lower()
            if name not in fields:
                raise SettingsError(_unknown_setting_message(key, fields))
            values[name] = _parse(key, raw, hints[name])
        values.update(overrides)
        return cls(**values)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


# Variables with our prefix that configure the test suite or the Makefile, not the service.
_NOT_SETTINGS = frozenset({"HOOKLINE_TEST_POSTGRES_URL", "HOOKLINE_NEW_PASSWORD"})


def documented_settings() -> list[tuple[str, str, str]]:
    """Return (variable, default, help) for every setting, in declaration order."""
    rows = []
    for f in dataclasses.fields(Settings):
        default = "" if f.default in (None, ()) else str(f.default)
        rows.append((PREFIX + f.name.upper(), default, f.metadata["help"]))
    return rows


def ensure_secret_key(settings: Settings) -> Settings:
    """Return settings with a secret key, generating one into the data dir on first use."""
    if settings.secret_key:
        return settings
    path = settings.data_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return settings.replace(secret_key=path.read_text().strip())


def _parse(key: str, raw: str, hint: Any) -> Any:
    base = _strip_optional(hint)
    try:
        if base is bool:
            return _parse_bool(raw)
        if base is int:
            return int(raw)
        if base is float:
            return float(raw)
        if base is Path:
            return Path(raw) if raw else None
        if typing.get_origin(base) is tuple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError:
        raise SettingsError(
            f"{key}={raw!r} is not a valid {base.__name__}; fix or unset the variable."
        ) from None
    return raw


def _strip_optional(hint: Any) -> Any:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0]
    return hint


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(raw)


def _unknown_setting_message(key: str, fields: Mapping[str, Any]) -> str:
    known = [PREFIX + name.upper() for name in fields]
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" Did you mean {close[0]}?" if close else " The README lists every setting."
    return f"{key} is not a Hookline setting.{hint}"
