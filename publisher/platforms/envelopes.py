"""Answers in a platform's own envelope: HTTP 200 with an error code inside.

Douyin and Kuaishou refuse with HTTP 200 and a code in the body; the code says what kind
of failure it is, and the HTTP status decides only where the envelope is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from publisher.platforms.base import Kind, PlatformError


def body_of(platform: str, response: requests.Response, what: str) -> dict[str, Any]:
    """Return the JSON body, or raise: a page without JSON is a proxy's, not the platform's."""
    try:
        body = response.json()
    except ValueError:
        raise PlatformError(
            platform,
            f"{what}: HTTP {response.status_code} without a JSON answer",
            kind="permanent" if 400 <= response.status_code < 500 else "transient",
            status=response.status_code,
        ) from None
    return body if isinstance(body, dict) else {}


def kind_of(status: int, code: int, kinds: Mapping[int, Kind]) -> Kind:
    """Return what an error asks of the job: the code's kind, else the HTTP status's."""
    if status == 429:
        return "rate"
    if code in kinds:
        return kinds[code]
    if status == 401:
        return "auth"
    return "transient" if status >= 500 else "permanent"
