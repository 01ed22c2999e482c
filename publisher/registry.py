"""Which client speaks for which platform, and with what credentials and endpoints.

Each platform is one module in ``publisher/platforms`` and one line here.
"""

from __future__ import annotations

import functools
import importlib
import json
from pathlib import Path

from hookline.errors import InvalidInput, SettingsError
from hookline.models import Channel
from hookline.settings import Settings
from publisher.platforms.base import App, PlatformClient

PLATFORMS: dict[str, str] = {
    "youtube": "publisher.platforms.youtube",
    "tiktok": "publisher.platforms.tiktok",
    "instagram": "publisher.platforms.instagram",
    "facebook": "publisher.platforms.facebook",
    "douyin": "publisher.platforms.douyin",
    "kuaishou": "publisher.platforms.kuaishou",
}
# The app the sandbox's emulators accept; real platforms need HOOKLINE_PLATFORM_APPS.
SANDBOX_APP = App(client_id="hookline-sandbox", client_secret="sandbox-secret")


def client_class(platform: str) -> type[PlatformClient]:
    if platform not in PLATFORMS:
        raise InvalidInput(f"Unknown platform {platform!r}; choose from {', '.join(PLATFORMS)}.")
    return importlib.import_module(PLATFORMS[platform]).Client


def client_for(channel: Channel, settings: Settings) -> PlatformClient:
    """Build the client for ``channel``'s platform (the sandbox's, for sandbox channels)."""
    cls = client_class(channel.platform)
    endpoints = channel.settings.get("endpoints") or getattr(cls, "DEFAULT_ENDPOINTS", {})
    app = SANDBOX_APP if channel.sandbox else _apps(settings.platform_apps).get(channel.platform)
    if app is None:
        raise SettingsError(
            f"No app credentials for {channel.platform}: add them to the file named by "
            "HOOKLINE_PLATFORM_APPS, or use a sandbox channel."
        )
    return cls(endpoints, app)


@functools.lru_cache(maxsize=4)
def _apps(path: Path | None) -> dict[str, App]:
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text())
        return {name: App(**fields) for name, fields in data.items()}
    except (OSError, ValueError, TypeError) as exc:
        raise SettingsError(f"HOOKLINE_PLATFORM_APPS ({path}) cannot be read: {exc}") from None
