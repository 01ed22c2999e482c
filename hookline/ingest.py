"""Ingest episode masters, and the stems and scripts that come with them, into the library.

A rejected file or value changes nothing: the checks (values, probe, conflicts) all
run before the first byte lands in the media store or the first row in the database.
Functions here take a session and plain values, flush so ids exist, and leave the
commit to the caller.
"""

from __future__ import annotations

import codecs
import contextlib
import itertools
import mimetypes
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select
from sqlmodel.sql.expression import SelectOfScalar

from hookline import audit
from hookline.clock import utcnow
from hookline.errors import Conflict, InvalidInput, MediaRejected
from hookline.models import AssetRole, Episode, EpisodeAsset, MediaAsset, Series, User
from hookline.probe import describe_video, probe_audio, probe_media
from hookline.storage import CHUNK_BYTES, MediaStore, Readable, StagedFile

MAX_EPISODE_NUMBER = 9999
SERIES_TITLE_MAX = 200
EPISODE_TITLE_MAX = 300
LABEL_MAX = 64
MAX_TROPES = 20
SLUG_MAX = 190  # leaves room for a "-12" suffix within the 200-character column
ORIGINAL_NAME_MAX = 400
# MediaAsset columns a probe fills; the whole probe is kept as JSON beside them.
ASSET_FIELDS = (
    "container",
    "extension",
    "mime_type",
    "duration_s",
    "width",
    "height",
    "fps",
    "video_codec",
    "audio_codec",
    "audio_channels",
    "sample_rate",
)
ATTACHABLE_KINDS = {
    AssetRole.DIALOGUE_STEM: "audio",
    AssetRole.MUSIC_EFFECTS_STEM: "audio",
    AssetRole.SCRIPT: "text",
}

Source = StagedFile | Path
Row = TypeVar("Row", bound=SQLModel)


@dataclass(frozen=True)
class IngestResult:
    episode: Episode
    asset: MediaAsset
    created: bool
    replaced: bool
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class EpisodeSpec:
    """Checked, normalized values of the episode to ingest."""

    filename: str
    series_title: str
    number: int
    title: str
    hook_type: str | None
    tropes: tuple[str, ...]


def ingest_episode(
    session: Session,
    store: MediaStore,
    source: Source,
    *,
    filename: str,
    series_title: str,
    episode_number: int,
    hook_type: str | None = None,
    tropes: Iterable[str] = (),
    title: str | None = None,
    replace: bool = False,
    actor: User | None = None,
) -> IngestResult:
    """Make the master ``source`` episode ``episode_number`` of the series ``series_title``.

    A StagedFile is consumed: committed into the store or deleted. Ingesting the same
    bytes again changes nothing; a different master for an existing episode needs
    ``replace=True``.
    """
    with _consumed(source):
        spec = episode_spec(filename, series_title, episode_number, hook_type, tropes, title)
        with _staged(store, source) as staged:
            return _ingest(session, store, staged, spec, replace=replace, actor=actor)


def ingest_upload(
    session: Session, store: MediaStore, stream: Readable, *, limit_bytes: int, **episode: Any
) -> IngestResult:
    """Stage an upload as it streams in (refused past ``limit_bytes``), then ingest it."""
    return ingest_episode(session, store, store.stage(stream, limit_bytes=limit_bytes), **episode)


def store_output(
    session: Session,
    store: MediaStore,
    path: Path,
    *,
    kind: str,
    name: str,
    facts: dict[str, Any] | None = None,
) -> MediaAsset:
    """Store a file Hookline made (a cut, a dub, a subtitle track); return its asset.

    Hookline's own renders are described from their headers (``facts`` when the caller
    knows them already); the full checks are for what users bring.
    """
    if facts is None and kind == "video":
        facts = describe_video(path).as_dict()
    elif facts is None:
        facts = _attachment_facts(path, kind, name)
    with store.stage_path(path, limit_bytes=None) as staged:
        store.commit(staged)
        asset = _asset_for(session, staged, kind=kind, facts=facts, name=name)
    session.flush()
    return asset


def attach_asset(
    session: Session,
    store: MediaStore,
    episode: Episode,
    source: Source,
    role: AssetRole | str,
    *,
    filename: str | None = None,
    actor: User | None = None,
) -> EpisodeAsset:
    """Attach a dialogue stem, a music-and-effects stem or a script to ``episode``.

    Attaching a different file in the same role replaces the previous one.
    """
    with _consumed(source):
        kind = _attachable_kind(role)
        name = _display_name(filename or _source_name(source, role))
        with _staged(store, source) as staged:
            facts = _attachment_facts(staged.path, kind, name)
            store.commit(staged)
            asset = _asset_for(session, staged, kind=kind, facts=facts, name=name)
    link = _link(session, episode, asset, AssetRole(role), actor)
    session.flush()
    return link


def episode_spec(
    filename: str,
    series_title: str,
    number: int,
    hook_type: str | None = None,
    tropes: Iterable[str] = (),
    title: str | None = None,
) -> EpisodeSpec:
    """Check and normalize episode values; raise InvalidInput saying what to fix."""
    if isinstance(tropes, str):
        raise InvalidInput("Tropes must be a list of labels, not one string.")
    return EpisodeSpec(
        filename=_display_name(filename),
        series_title=_series_title(series_title),
        number=_episode_number(number),
        title=_text(title or "", "Episode title", EPISODE_TITLE_MAX),
        hook_type=_label(hook_type, "Hook type") if hook_type is not None else None,
        tropes=_tropes(tropes),
    )


def split_tropes(text: str | None) -> list[str]:
    """Split a comma-separated trope list as typed in a form or on the command line."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def slugify(title: str) -> str:
    """Return a URL-friendly slug: ``"Amor Prohibído"`` -> ``"amor-prohibido"``."""
    decomposed = unicodedata.normalize("NFKD", title.casefold())
    bare = unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )
    return re.sub(r"[\W_]+", "-", bare).strip("-")[:SLUG_MAX].strip("-") or "series"


def _ingest(
    session: Session,
    store: MediaStore,
    staged: StagedFile,
    spec: EpisodeSpec,
    *,
    replace: bool,
    actor: User | None,
) -> IngestResult:
    probe = probe_media(staged.path, filename=spec.filename)
    series = _find_series(session, spec.series_title)
    episode = _find_episode(session, series, spec.number) if series else None
    current = _master(session, episode) if episode else None
    if current is not None and current.sha256 != staged.sha256 and not replace:
        raise _master_conflict(spec, current)
    store.commit(staged)
    asset = _asset_for(session, staged, kind="video", facts=probe.as_dict(), name=spec.filename)
    if episode is None:
        series = series or _create_series(session, spec.series_title)
        episode = _create_episode(session, series, spec, asset, probe.warnings, actor)
        return IngestResult(episode, asset, created=True, replaced=False, warnings=probe.warnings)
    if current is not None and current.id == asset.id:
        # The same bytes again: ingest is idempotent, nothing changes.
        return IngestResult(
            episode, asset, created=False, replaced=False, warnings=tuple(episode.warnings)
        )
    _replace_master(session, episode, spec, asset, current, probe.warnings, actor)
    return IngestResult(
        episode, asset, created=False, replaced=current is not None, warnings=probe.warnings
    )


def _consumed(source: Source) -> StagedFile | contextlib.nullcontext[None]:
    """Return a context that deletes a given StagedFile on exit unless it was committed."""
    return source if isinstance(source, StagedFile) else contextlib.nullcontext()


def _source_name(source: Source, role: AssetRole | str) -> str:
    return source.name if isinstance(source, Path) else f"{AssetRole(role).value} file"


def _staged(store: MediaStore, source: Source) -> StagedFile:
    if isinstance(source, StagedFile):
        return source
    # The upload size limit guards the network edge; a file on this machine is taken whole.
    return store.stage_path(source, limit_bytes=None)


def _find_series(session: Session, title: str) -> Series | None:
    return session.exec(select(Series).where(Series.title == title)).first()


def _find_episode(session: Session, series: Series, number: int) -> Episode | None:
    statement = select(Episode).where(Episode.series_id == series.id, Episode.number == number)
    return session.exec(statement).first()


def _master(session: Session, episode: Episode) -> MediaAsset | None:
    if episode.master_asset_id is None:
        return None
    return session.get(MediaAsset, episode.master_asset_id)


def _master_conflict(spec: EpisodeSpec, current: MediaAsset) -> Conflict:
    return Conflict(
        f"Episode {spec.number} of {spec.series_title!r} already has a different master "
        f"({current.original_name or current.sha256[:12]}). To make {spec.filename} its new "
        "master, ingest it with replace: --replace on the command line, the 'Replace' box on "
        "the form, replace=true in the API.",
        detail={"current_sha256": current.sha256},
    )


def _asset_for(
    session: Session, staged: StagedFile, *, kind: str, facts: dict[str, Any], name: str
) -> MediaAsset:
    """Return the asset for the staged bytes, creating it the first time they are seen."""
    row = MediaAsset(
        sha256=staged.sha256,
        size_bytes=staged.size,
        kind=kind,
        original_name=name,
        probe=facts,
        **{key: facts[key] for key in ASSET_FIELDS if key in facts},
    )
    found = select(MediaAsset).where(MediaAsset.sha256 == staged.sha256)
    return _insert_or_get(session, row, found)


def _create_series(session: Session, title: str) -> Series:
    row = Series(title=title, slug=_free_slug(session, slugify(title)))
    return _insert_or_get(session, row, select(Series).where(Series.title == title))


def _free_slug(session: Session, base: str) -> str:
    for n in itertools.count(1):
        slug = base if n == 1 else f"{base}-{n}"
        if session.exec(select(Series.id).where(Series.slug == slug)).first() is None:
            return slug
    raise AssertionError("unreachable")  # pragma: no cover


def _create_episode(
    session: Session,
    series: Series,
    spec: EpisodeSpec,
    asset: MediaAsset,
    warnings: tuple[str, ...],
    actor: User | None,
) -> Episode:
    episode = Episode(
        series_id=_id(series),
        number=spec.number,
        title=spec.title,
        hook_type=spec.hook_type,
        tropes=list(spec.tropes),
        master_asset_id=asset.id,
        warnings=list(warnings),
    )
    try:
        with session.begin_nested():
            session.add(episode)
    # Two ingests of the same episode number raced; the other one got there first.
    except IntegrityError:
        raise Conflict(
            f"Episode {spec.number} of {spec.series_title!r} was just ingested by someone "
            "else. Run the ingest again (with --replace to replace their master)."
        ) from None
    session.add(EpisodeAsset(episode_id=_id(episode), asset_id=_id(asset), role=AssetRole.MASTER))
    audit.record(
        session,
        actor=actor,
        action="episode.created",
        entity_type="episode",
        entity_id=episode.id,
        after=_episode_state(series, episode, asset),
    )
    session.flush()
    return episode


def _replace_master(
    session: Session,
    episode: Episode,
    spec: EpisodeSpec,
    asset: MediaAsset,
    previous: MediaAsset | None,
    warnings: tuple[str, ...],
    actor: User | None,
) -> None:
    series = session.get_one(Series, episode.series_id)
    before = _episode_state(series, episode, previous)
    episode.master_asset_id = asset.id
    episode.warnings = list(warnings)
    episode.title = spec.title or episode.title
    episode.hook_type = spec.hook_type or episode.hook_type
    episode.tropes = list(spec.tropes) or episode.tropes
    episode.updated_at = utcnow()
    session.add(episode)
    _set_link(session, _find_link(session, episode, AssetRole.MASTER), episode, asset)
    audit.record(
        session,
        actor=actor,
        action="episode.master_replaced",
        entity_type="episode",
        entity_id=episode.id,
        before=before,
        after=_episode_state(series, episode, asset),
    )
    session.flush()


def _episode_state(series: Series, episode: Episode, master: MediaAsset | None) -> dict[str, Any]:
    return {
        "series": series.title,
        "number": episode.number,
        "title": episode.title,
        "hook_type": episode.hook_type,
        "tropes": list(episode.tropes),
        "master_sha256": master.sha256 if master else None,
        "warnings": list(episode.warnings),
    }


def _link(
    session: Session, episode: Episode, asset: MediaAsset, role: AssetRole, actor: User | None
) -> EpisodeAsset:
    """Point ``episode``'s ``role`` at ``asset``, auditing any change."""
    link = _find_link(session, episode, role)
    if link is not None and link.asset_id == asset.id:
        return link
    before = {"role": role.value, "asset_id": link.asset_id} if link else None
    link = _set_link(session, link, episode, asset, role)
    audit.record(
        session,
        actor=actor,
        action="episode.asset_replaced" if before else "episode.asset_attached",
        entity_type="episode",
        entity_id=episode.id,
        before=before,
        after={"role": role.value, "asset_id": asset.id, "sha256": asset.sha256},
    )
    return link


def _find_link(session: Session, episode: Episode, role: AssetRole) -> EpisodeAsset | None:
    statement = select(EpisodeAsset).where(
        EpisodeAsset.episode_id == episode.id, EpisodeAsset.role == role
    )
    return session.exec(statement).first()


def _set_link(
    session: Session,
    link: EpisodeAsset | None,
    episode: Episode,
    asset: MediaAsset,
    role: AssetRole = AssetRole.MASTER,
) -> EpisodeAsset:
    """Point the existing ``link`` (or a new one) at ``asset``."""
    if link is None:
        link = EpisodeAsset(episode_id=_id(episode), asset_id=_id(asset), role=role)
    link.asset_id = _id(asset)
    session.add(link)
    return link


def _id(row: Series | Episode | MediaAsset) -> int:
    """Return the primary key of a flushed row."""
    assert row.id is not None, f"{row!r} was not flushed"
    return row.id


def _insert_or_get(session: Session, row: Row, found: SelectOfScalar[Row]) -> Row:
    """Return the row ``found`` selects, inserting ``row`` when there is none yet."""
    existing = session.exec(found).first()
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            session.add(row)
    # Another process inserted the same unique key between our select and our insert.
    except IntegrityError:
        return session.exec(found).one()
    return row


def _attachable_kind(role: AssetRole | str) -> str:
    try:
        return ATTACHABLE_KINDS[AssetRole(role)]
    except (ValueError, KeyError):  # not a role at all, or one ingest_episode owns
        roles = ", ".join(r.value for r in ATTACHABLE_KINDS)
        raise InvalidInput(f"Cannot attach a file as {role!r}; use one of: {roles}.") from None


def _attachment_facts(path: Path, kind: str, name: str) -> dict[str, Any]:
    if kind == "audio":
        return probe_audio(path, filename=name).as_dict()
    _check_utf8(path, name)
    suffix = Path(name).suffix.lower()
    mime = mimetypes.guess_type(name)[0] if suffix else None
    return {"extension": suffix.lstrip(".") or "txt", "mime_type": mime or "text/plain"}


def _check_utf8(path: Path, name: str) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise MediaRejected(
            f"{name} is not UTF-8 text. Save the script as UTF-8 plain text "
            "(.txt, .md or .fountain).",
            code="not_text",
        ) from None


def _display_name(filename: str) -> str:
    """Return the base name of a user's file name; client paths are not kept."""
    name = Path(filename.replace("\\", "/")).name.strip()
    return name[:ORIGINAL_NAME_MAX]


def _series_title(value: str) -> str:
    title = _text(value, "Series title", SERIES_TITLE_MAX)
    if not title:
        raise InvalidInput("Series title is empty; give the series' name.")
    return title


def _episode_number(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"Episode number must be a whole number, not {value!r}.")
    if not 1 <= value <= MAX_EPISODE_NUMBER:
        raise InvalidInput(
            f"Episode number {value} is out of range; "
            f"number episodes from 1 to {MAX_EPISODE_NUMBER}."
        )
    return value


def _tropes(values: Iterable[str]) -> tuple[str, ...]:
    labels = tuple(dict.fromkeys(_label(value, "Trope") for value in values))
    if len(labels) > MAX_TROPES:
        raise InvalidInput(f"{len(labels)} tropes given; tag an episode with at most {MAX_TROPES}.")
    return labels


def _label(value: str, what: str) -> str:
    """Return a lowercase single-spaced label, so analytics counts "Cliffhanger" once."""
    label = _text(value, what, LABEL_MAX).lower()
    if not label:
        raise InvalidInput(f"{what} is empty; leave it out or give a short label.")
    return label


def _text(value: str, what: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, not {type(value).__name__}.")
    text = " ".join(value.split())
    if not text.isprintable():
        raise InvalidInput(f"{what} contains control characters; type it as plain text.")
    if len(text) > max_length:
        raise InvalidInput(f"{what} is {len(text)} characters long; the limit is {max_length}.")
    return text
