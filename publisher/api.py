"""API: channels, scheduling publications, moving and cancelling them, their timelines."""

from __future__ import annotations

from datetime import date, datetime, time

from flask_login import current_user
from pydantic import BaseModel, Field
from sqlmodel import col, select

from hookline.api import api
from hookline.api.schemas import Out
from hookline.errors import NotFound
from hookline.models import Channel, Publication, PublicationAttempt
from hookline.web.context import db_session, services
from publisher import scheduling


class ChannelOut(Out):
    id: int
    platform: str
    name: str
    language: str
    region: str
    timezone: str
    status: str
    reconnect_reason: str
    sandbox: bool


class AttemptOut(Out):
    at: datetime
    step: str
    outcome: str
    bytes_sent: int
    http_status: int | None
    code: str
    message: str


class PublicationOut(Out):
    id: int
    cut_id: int
    channel_id: int
    language: str
    status: str
    phase: str
    scheduled_at: datetime = Field(description="UTC.")
    local_time: str | None = Field(default=None, description="In the channel's time zone.")
    title: str
    description: str
    hashtags: list[str]
    bytes_sent: int
    remote_id: str | None
    remote_url: str | None
    error_code: str | None
    error_message: str | None
    published_at: datetime | None
    attempts: list[AttemptOut] = Field(default_factory=list)


class ScheduleIn(BaseModel):
    cut_id: int
    channel_id: int
    local_date: date = Field(description="In the channel's time zone.")
    local_time: time = Field(description="In the channel's time zone.")
    title: str = Field(min_length=1, max_length=500)
    description: str = ""
    hashtags: list[str] = Field(default_factory=list)
    privacy: str = "public"


class MoveIn(BaseModel):
    local_date: date = Field(description="In the channel's time zone.")
    local_time: time | None = Field(default=None, description="Keep the current time when omitted.")


@api.operation(
    "GET",
    "/channels",
    summary="Channels",
    permission="publish.view",
    response=list[ChannelOut],
    tags=("publishing",),
)
def list_channels() -> list[Channel]:
    return list(db_session().exec(select(Channel).order_by(Channel.platform, Channel.name)))


@api.operation(
    "GET",
    "/publications/<int:publication_id>",
    summary="A publication and its timeline",
    permission="publish.view",
    response=PublicationOut,
    tags=("publishing",),
)
def get_publication(publication_id: int) -> PublicationOut:
    return _out(_get(publication_id), with_attempts=True)


@api.operation(
    "POST",
    "/publications",
    summary="Schedule an approved cut on a channel",
    permission="publish.manage",
    body=ScheduleIn,
    response=PublicationOut,
    status=201,
    tags=("publishing",),
)
def create_publication(body: ScheduleIn) -> PublicationOut:
    session = db_session()
    draft = scheduling.Draft(
        cut_id=body.cut_id,
        channel_id=body.channel_id,
        local_time=datetime.combine(body.date, body.time),
        title=body.title,
        description=body.description,
        hashtags=tuple(body.hashtags),
        privacy=body.privacy,
    )
    publication = scheduling.schedule(session, services().settings, draft, actor=current_user.user)
    session.commit()
    return _out(publication)


@api.operation(
    "POST",
    "/publications/<int:publication_id>/reschedule",
    summary="Move a publication (the calendar's drag and drop)",
    permission="publish.manage",
    body=MoveIn,
    response=PublicationOut,
    tags=("publishing",),
)
def move_publication(publication_id: int, body: MoveIn) -> PublicationOut:
    session = db_session()
    publication = _get(publication_id)
    channel = session.get_one(Channel, publication.channel_id)
    current = scheduling.to_local(publication.scheduled_at, channel.timezone)
    local = datetime.combine(
        body.local_date, body.local_time or current.time().replace(tzinfo=None)
    )
    moved = scheduling.reschedule(session, publication_id, local, actor=current_user.user)
    session.commit()
    return _out(moved)


@api.operation(
    "POST",
    "/publications/<int:publication_id>/cancel",
    summary="Cancel a publication",
    permission="publish.manage",
    response=PublicationOut,
    tags=("publishing",),
)
def cancel_publication(publication_id: int) -> PublicationOut:
    session = db_session()
    cancelled = scheduling.cancel(session, publication_id, actor=current_user.user)
    session.commit()
    return _out(cancelled)


def _get(publication_id: int) -> Publication:
    found = db_session().get(Publication, publication_id)
    if found is None:
        raise NotFound(f"No publication {publication_id}.")
    return found


def _out(publication: Publication, *, with_attempts: bool = False) -> PublicationOut:
    session = db_session()
    channel = session.get_one(Channel, publication.channel_id)
    out = PublicationOut.model_validate(publication)
    out.local_time = scheduling.to_local(publication.scheduled_at, channel.timezone).isoformat()
    if with_attempts:
        out.attempts = [
            AttemptOut.model_validate(a)
            for a in session.exec(
                select(PublicationAttempt)
                .where(PublicationAttempt.publication_id == publication.id)
                .order_by(col(PublicationAttempt.id))
            )
        ]
    return out
