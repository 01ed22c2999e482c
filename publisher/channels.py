"""Channels: platform accounts in a market, connected by OAuth, with tokens kept fresh.

A failed refresh does not fail anything: the channel is marked "reconnect needed" and
its publications are held until someone reconnects it, then they go out as planned.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from hookline import audit
from hookline.clock import utcnow
from hookline.errors import InvalidInput, NotFound
from hookline.models import Channel, ChannelStatus, Publication, PublicationStatus, User
from hookline.settings import Settings
from localization.languages import canonical
from publisher import registry, tokens
from publisher.errors import ChannelNeedsReconnect
from publisher.platforms.base import PlatformClient, PlatformError, Tokens

log = logging.getLogger(__name__)

# Refresh this long before the access token expires: an upload can outlast a short token.
REFRESH_MARGIN = timedelta(minutes=10)
WAITING = (PublicationStatus.SCHEDULED, PublicationStatus.DEFERRED)


def create_channel(
    session: Session,
    settings: Settings,
    *,
    platform: str,
    name: str,
    language: str,
    timezone: str,
    region: str = "",
    sandbox: bool = False,
    actor: User | None = None,
) -> Channel:
    """Add a channel (not yet connected); a sandbox channel talks to the local emulators."""
    registry.client_class(platform)  # an unknown platform is refused here
    if not name.strip():
        raise InvalidInput("Give the channel a name, e.g. 'Dramas ES (TikTok)'.")
    channel = Channel(
        platform=platform,
        name=name.strip()[:200],
        language=canonical(language),
        region=region.strip().upper()[:8],
        timezone=check_timezone(timezone),
        sandbox=sandbox,
        settings={"endpoints": sandbox_endpoints(settings, platform)} if sandbox else {},
    )
    session.add(channel)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="channel.create",
        entity_type="channel",
        entity_id=channel.id,
        after={"platform": platform, "name": channel.name},
    )
    return channel


def check_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"{name!r} is not a time zone; use an IANA name such as Europe/Madrid or Asia/Jakarta."
        ) from None
    return name


def sandbox_endpoints(settings: Settings, platform: str) -> dict[str, str]:
    base = f"http://127.0.0.1:{settings.sandbox_port}/{platform}"
    return {"api": base, "upload": base, "auth": base}


def connect_url(channel: Channel, settings: Settings, *, state: str, redirect_uri: str) -> str:
    """Where the user grants Hookline access to this channel's platform account."""
    client = registry.client_for(channel, settings)
    try:
        return client.authorize_url(state=state, redirect_uri=redirect_uri)
    finally:
        client.close()


def complete_connection(
    session: Session,
    channel: Channel,
    settings: Settings,
    *,
    code: str,
    redirect_uri: str,
    actor: User | None = None,
) -> Channel:
    """Trade the authorization code for tokens; held publications may go out again."""
    client = registry.client_for(channel, settings)
    try:
        granted = client.exchange_code(code, redirect_uri=redirect_uri, now=utcnow())
    except PlatformError as error:
        raise InvalidInput(
            f"{channel.name}: the platform refused the connection: {error.message}"
        ) from error
    finally:
        client.close()
    _store(channel, settings, granted)
    channel.status = ChannelStatus.CONNECTED
    channel.reconnect_reason = ""
    channel.external_id = granted.account_id or channel.external_id
    session.add(channel)
    released = release_held(session, channel)
    audit.record(
        session,
        actor=actor,
        action="channel.connect",
        entity_type="channel",
        entity_id=channel.id,
        after={"account": granted.account_id, "released": released},
    )
    return channel


def fresh_tokens(
    session: Session, channel: Channel, settings: Settings, client: PlatformClient, *, now: datetime
) -> Tokens:
    """Return usable tokens, refreshing (and storing rotated ones) when they are due.

    A refresh the platform refuses marks the channel for reconnecting, holds its
    publications and raises ChannelNeedsReconnect.
    """
    current = tokens.unseal(settings, channel.token_ciphertext, channel=channel.name)
    if not current.expires_within(REFRESH_MARGIN.total_seconds(), now):
        return current
    return refresh(session, channel, settings, client, current, now=now)


def refresh(
    session: Session,
    channel: Channel,
    settings: Settings,
    client: PlatformClient,
    current: Tokens,
    *,
    now: datetime,
) -> Tokens:
    if not current.refresh_token:
        return _needs_reconnect(
            session, channel, "the access token expired and cannot be refreshed"
        )
    try:
        renewed = client.refresh(current, now=now)
    except PlatformError as error:
        if error.transient:
            raise
        return _needs_reconnect(session, channel, f"the token refresh was refused: {error.message}")
    _store(channel, settings, renewed)
    session.add(channel)
    session.flush()
    return renewed


def _needs_reconnect(session: Session, channel: Channel, reason: str) -> Tokens:
    mark_reconnect_needed(session, channel, reason)
    session.commit()  # the hold must stand even though the caller's work fails here
    raise ChannelNeedsReconnect(f"{channel.name} needs reconnecting: {reason}.")


def mark_reconnect_needed(session: Session, channel: Channel, reason: str) -> int:
    """Flag the channel and hold its waiting publications; return how many were held."""
    channel.status = ChannelStatus.RECONNECT_NEEDED
    channel.reconnect_reason = reason
    session.add(channel)
    held = 0
    for publication in _waiting(session, channel, WAITING):
        publication.status = PublicationStatus.HELD
        publication.error_message = f"Held: {channel.name} needs reconnecting ({reason})."
        session.add(publication)
        held += 1
    log.warning(
        "channel %s needs reconnecting (%s); %d publication(s) held", channel.id, reason, held
    )
    return held


def release_held(session: Session, channel: Channel) -> int:
    """Put held publications back on schedule (due ones go at once)."""
    from publisher.scheduling import queue_publication

    released = 0
    for publication in _waiting(session, channel, (PublicationStatus.HELD,)):
        publication.status = PublicationStatus.SCHEDULED
        publication.error_message = None
        session.add(publication)
        queue_publication(session, publication, now=utcnow())
        released += 1
    return released


def _waiting(
    session: Session, channel: Channel, statuses: Sequence[PublicationStatus]
) -> list[Publication]:
    return list(
        session.exec(
            select(Publication).where(
                Publication.channel_id == channel.id,
                col(Publication.status).in_([s.value for s in statuses]),
            )
        )
    )


def _store(channel: Channel, settings: Settings, granted: Tokens) -> None:
    channel.token_ciphertext = tokens.seal(settings, granted)
    channel.token_expires_at = granted.expires_at


def get_channel(session: Session, channel_id: int) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound(f"No channel {channel_id}.")
    return channel
