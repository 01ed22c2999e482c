"""Speak through an OpenAI-compatible ``POST /audio/speech`` server (Kokoro, Piper, cloud).

Retries live on the mounted adapter (urllib3 ``Retry``): 429 and 5xx answers are
retried with backoff, honouring ``Retry-After``. A read timeout is not retried: the
server has the request and is slow, and asking again only multiplies the wait.
"""

from __future__ import annotations

import logging

import numpy as np
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from localization.audio import AudioFormatError, Clip, decode_pcm, decode_wav, trim_silence
from localization.errors import SpeechFailed
from localization.tts.base import check_backend
from localization.tts.voices import Voice

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# OpenAI's "pcm" format: raw 24 kHz signed 16-bit little-endian mono.
PCM_RATE = 24_000
_PCM_TYPES = ("audio/pcm", "audio/l16", "audio/x-pcm", "audio/raw", "audio/x-raw")


class _Retry(Retry):
    """Retry that waits at most ``retry_after_cap`` seconds whatever Retry-After says.

    A server asking for an hour's pause would otherwise stall a worker for an hour.
    """

    def __init__(self, *args, retry_after_cap: float = 60.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after_cap = retry_after_cap

    def new(self, **kw):
        kw.setdefault("retry_after_cap", self.retry_after_cap)
        return super().new(**kw)

    def get_retry_after(self, response) -> float | None:
        try:
            seconds = super().get_retry_after(response)
        except InvalidHeader:  # a malformed header is treated as absent: back off normally
            return None
        return None if seconds is None else min(seconds, self.retry_after_cap)


class SpeechEndpointSynthesizer:
    """Synthesize with a speech server; every request has ``timeout`` seconds."""

    def __init__(
        self,
        base_url: str,
        model: str = "",
        api_key: str = "",
        timeout: float = 60.0,
        *,
        retries: int = 3,
        backoff_s: float = 0.5,
    ) -> None:
        self.url = base_url.rstrip("/") + "/audio/speech"
        self.model = model
        self.timeout = timeout
        self.retries = retries
        self.name = f"endpoint {self.url} {model}".strip()
        self.session = _session(api_key, retries, backoff_s, retry_after_cap=timeout)

    def synthesize(self, text: str, voice: Voice) -> Clip:
        check_backend(voice, "endpoint")
        if not text.strip():
            return Clip(np.zeros(0, np.float32), PCM_RATE)  # servers reject empty input
        response = self._post(self._payload(text, voice))
        return trim_silence(self._clip(response))

    def _payload(self, text: str, voice: Voice) -> dict:
        payload = {"input": text, "voice": voice.voice, "response_format": "wav"}
        if self.model:
            payload["model"] = self.model
        if voice.speed != 1.0:
            payload["speed"] = voice.speed
        return payload

    def _post(self, payload: dict) -> requests.Response:
        try:
            response = self.session.post(self.url, json=payload, timeout=self.timeout)
        except requests.Timeout as exc:
            raise SpeechFailed(
                f"the speech endpoint {self.url} did not answer within {self.timeout:g} s"
            ) from exc
        except requests.RequestException as exc:
            raise SpeechFailed(
                f"cannot reach the speech endpoint {self.url} ({type(exc).__name__}); "
                "check HOOKLINE_TTS_URL and that the server is running"
            ) from exc
        if response.status_code != 200:
            raise SpeechFailed(self._status_message(response))
        return response

    def _status_message(self, response: requests.Response) -> str:
        status = response.status_code
        where = f"the speech endpoint {self.url}"
        if status in (401, 403):
            return f"{where} refused the request (HTTP {status}): check HOOKLINE_TTS_API_KEY"
        attempts = f" after {self.retries + 1} attempts" if status in RETRY_STATUSES else ""
        return f"{where} answered HTTP {status}{attempts}: {_reason(response)}"

    def _clip(self, response: requests.Response) -> Clip:
        body = response.content
        kind = response.headers.get("Content-Type", "").lower()
        if body[:4] != b"RIFF" and kind.startswith(_PCM_TYPES):
            return decode_pcm(body, _rate_parameter(kind) or PCM_RATE)
        if kind.startswith("application/json"):
            raise SpeechFailed(
                f"the speech endpoint {self.url} answered JSON, not audio: {_reason(response)}"
            )
        try:
            clip = decode_wav(body)
        except AudioFormatError as exc:
            raise SpeechFailed(
                f"the speech endpoint {self.url} sent audio Hookline cannot read "
                f"({kind or 'no content type'}, {len(body)} bytes): {exc}"
            ) from exc
        log.debug("speech endpoint: %.2f s at %d Hz", clip.duration_s, clip.sample_rate)
        return clip


def _session(api_key: str, retries: int, backoff_s: float, *, retry_after_cap: float):
    retry = _Retry(
        total=retries,
        connect=retries,
        read=False,
        status=retries,
        other=0,
        allowed_methods=frozenset({"POST"}),  # speaking the same text twice is harmless
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_s,
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer comes back, so its message can be reported
        retry_after_cap=retry_after_cap,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if api_key:
        session.headers["Authorization"] = f"Bearer {api_key}"
    return session


def _reason(response: requests.Response) -> str:
    """Return the server's own words: OpenAI's error.message, FastAPI's detail, or the text."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason or "no message"
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:200]
        for key in ("detail", "error", "message"):
            if data.get(key):
                return str(data[key])[:200]
    return str(data)[:200]


def _rate_parameter(content_type: str) -> int | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key == "rate" and value.isdigit():
            return int(value)
    return None
