"""Reviewers' edits on both databases: versions, conflicts, timing, QC, undo, audit, approval."""

from __future__ import annotations

import pytest
from sqlmodel import select

from hookline.auth import create_user
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.models import (
    AuditEvent,
    Character,
    Episode,
    Localization,
    LocalizationStatus,
    MediaAsset,
    Series,
    SubtitleLine,
    Term,
)
from localization import bible, editing, review, status
from localization.editing import MAX_LINE_CHARS, Change, LineConflict

LINES = [
    (0.5, 2.0, "Lena", "Sign the contract.", "Firma el contrato."),
    (2.5, 4.0, "Adrian", "I never loved you.", "Nunca te amé."),
    (4.5, 6.0, "Lena", "Give me the ring.", "Dame el anillo."),
]


@pytest.fixture
def track(db):
    """A needs-review Spanish localization of a 10-second episode, and two reviewers."""
    with db.transaction() as session:
        series = Series(title="Contract Bride", slug="contract-bride", source_language="en")
        session.add(series)
        session.flush()
        master = MediaAsset(sha256="a" * 64, size_bytes=1, kind="video", duration_s=10.0, fps=30)
        session.add(master)
        session.flush()
        episode = Episode(series_id=series.id, number=1, title="Pilot", master_asset_id=master.id)
        session.add(episode)
        session.flush()
        loc = Localization(
            episode_id=episode.id, language="es", status=LocalizationStatus.NEEDS_REVIEW
        )
        session.add(loc)
        session.flush()
        for position, (start, end, speaker, source, text) in enumerate(LINES):
            session.add(
                SubtitleLine(
                    localization_id=loc.id,
                    position=position,
                    start_s=start,
                    end_s=end,
                    speaker=speaker,
                    source_text=source,
                    text=text,
                )
            )
        session.add(Character(series_id=series.id, name="Lena", gender="female"))
        ana = create_user(session, "ana", "a long passphrase 1", ["reviewer"])
        ben = create_user(session, "ben", "a long passphrase 2", ["reviewer"])
        session.flush()
        editing.recheck(session, loc)
        ids = [
            line.id
            for line in session.exec(
                select(SubtitleLine).where(SubtitleLine.localization_id == loc.id)
            )
        ]
        return {
            "loc": loc.id,
            "lines": sorted(ids),
            "ana": ana.id,
            "ben": ben.id,
            "series": series.id,
        }


def user(session, name):
    from hookline.models import User

    return session.exec(select(User).where(User.username == name)).one()


def line(db, line_id):
    with db.session() as session:
        return session.get_one(SubtitleLine, line_id)


def test_an_edit_saves_a_new_version_rechecks_qc_and_is_audited(db, track):
    first = track["lines"][0]
    long_text = "Firma el contrato ahora mismo o perderás todo lo que tienes"
    with db.transaction() as session:
        saved = editing.edit_line(
            session, first, 1, Change(text=long_text), actor=user(session, "ana")
        )
        assert saved.version == 2
    row = line(db, first)
    assert row.text == long_text and row.version == 2 and row.updated_by_id == track["ana"]
    # 59 characters in 1.5 s is far over the reading speed: QC says so on the line and in sum.
    assert any(v["rule"] == "max_cps" for v in row.qc), row.qc
    with db.session() as session:
        loc = session.get_one(Localization, track["loc"])
        assert loc.qc_summary["total"] >= 1
        [event] = editing.history(session, first)
    assert event.actor == "ana" and event.action == "line.edit"
    assert event.before == {"text": "Firma el contrato.", "version": 1}
    assert event.after["text"] == long_text and event.after["version"] == 2


def test_a_stale_version_is_a_conflict_carrying_both_versions_and_overwrites_nothing(db, track):
    first = track["lines"][0]
    with db.transaction() as session:
        editing.edit_line(session, first, 1, Change(text="Firma aquí."), actor=user(session, "ana"))
    with db.transaction() as session, pytest.raises(LineConflict) as caught:
        editing.edit_line(session, first, 1, Change(text="Firma ya."), actor=user(session, "ben"))
    assert caught.value.status == 409
    assert "ana" in caught.value.message and "Choose which to keep" in caught.value.message
    assert caught.value.detail["current"]["text"] == "Firma aquí."
    assert caught.value.detail["current"]["version"] == 2
    assert caught.value.detail["yours"] == {"text": "Firma ya.", "version": 1}
    assert line(db, first).text == "Firma aquí."
    # Keeping one's own version is a save against the current version.
    with db.transaction() as session:
        editing.edit_line(session, first, 2, Change(text="Firma ya."), actor=user(session, "ben"))
    assert line(db, first).text == "Firma ya." and line(db, first).version == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (Change(start_s=1.5, end_s=1.0), "must end after it starts"),
        (Change(end_s=4.7), "after line 3 starts"),
        (Change(start_s=1.9), "before line 1 ends"),
        (Change(end_s=10.5), "ends after the episode does"),
        (Change(start_s=-1.0), "cannot start before 0:00"),
    ],
)
def test_invalid_timing_is_refused_with_a_message_and_changes_nothing(db, track, change, message):
    middle = track["lines"][1]
    with db.transaction() as session, pytest.raises(InvalidInput, match=message):
        editing.edit_line(session, middle, 1, change, actor=user(session, "ana"))
    row = line(db, middle)
    assert (row.start_s, row.end_s, row.version) == (2.5, 4.0, 1)


def test_a_pasted_line_over_the_hard_limit_is_refused_with_the_limit(db, track):
    first = track["lines"][0]
    with db.transaction() as session, pytest.raises(InvalidInput, match=str(MAX_LINE_CHARS)):
        editing.edit_line(
            session, first, 1, Change(text="x" * (MAX_LINE_CHARS + 1)), actor=user(session, "ana")
        )
    assert line(db, first).text == "Firma el contrato."


def test_undo_walks_a_lines_edits_back_one_at_a_time(db, track):
    first = track["lines"][0]
    with db.transaction() as session:
        ana = user(session, "ana")
        editing.edit_line(session, first, 1, Change(text="Uno."), actor=ana)
        editing.edit_line(session, first, 2, Change(start_s=0.8, speaker="Narrator"), actor=ana)
    with db.transaction() as session:
        undone = editing.undo_line(session, first, 3, actor=user(session, "ana"))
        assert (undone.start_s, undone.speaker, undone.text) == (0.5, "Lena", "Uno.")
    with db.transaction() as session:
        undone = editing.undo_line(session, first, 4, actor=user(session, "ana"))
        assert undone.text == "Firma el contrato."
    with db.transaction() as session, pytest.raises(Conflict, match="no edit left to undo"):
        editing.undo_line(session, first, 5, actor=user(session, "ana"))
    with db.session() as session:
        actions = [e.action for e in editing.history(session, first)]
    assert actions == ["line.undo", "line.undo", "line.edit", "line.edit"]


def test_approval_is_blocked_by_qc_errors_unless_overridden_and_an_edit_reopens_it(db, track):
    first = track["lines"][0]
    with db.transaction() as session:
        # A word too long for any subtitle line is a blocking QC error (max_chars).
        editing.edit_line(
            session, first, 1, Change(text="Firma-" + "x" * 60), actor=user(session, "ana")
        )
    with db.session() as session:
        errors = session.get_one(Localization, track["loc"]).qc_summary["errors"]
    assert errors >= 1
    with db.transaction() as session, pytest.raises(InvalidInput, match="blocking QC error"):
        review.approve(session, track["loc"], actor=user(session, "ana"))
    with db.transaction() as session:
        review.approve(
            session, track["loc"], actor=user(session, "ana"), override="the client asked for it"
        )
    with db.transaction() as session:
        assert session.get_one(Localization, track["loc"]).status == "approved"
        editing.edit_line(session, first, 2, Change(text="Firma."), actor=user(session, "ben"))
    with db.session() as session:
        loc = session.get_one(Localization, track["loc"])
        assert loc.status == "needs_review" and loc.approved_by_id is None
        reopen = session.exec(
            select(AuditEvent).where(AuditEvent.action == "localization.reopen")
        ).one()
    assert reopen.actor == "ben" and "line 1 edited" in reopen.after["reason"]


def test_request_changes_needs_a_comment(db, track):
    with db.transaction() as session, pytest.raises(InvalidInput, match="Say what should change"):
        review.request_changes(session, track["loc"], actor=user(session, "ana"), comment=" ")
    with db.transaction() as session:
        review.request_changes(
            session, track["loc"], actor=user(session, "ana"), comment="Line 2 is too formal."
        )
    with db.session() as session:
        assert session.get_one(Localization, track["loc"]).status == "changes_requested"


def test_a_missing_line_is_not_found(db, track):
    with db.transaction() as session, pytest.raises(NotFound, match="No line"):
        editing.edit_line(session, 999_999, 1, Change(text="x"), actor=None)


def test_the_matrix_shows_each_episode_by_language_and_filters(db, track):
    with db.session() as session:
        grid = status.matrix(session, track["series"])
        assert grid.languages == ["es"] and [r.episode.number for r in grid.rows] == [1]
        assert grid.rows[0].cells["es"].localization.status == "needs_review"
        assert status.matrix(session, track["series"], state="approved").rows == []
        assert status.matrix(session, track["series"], language="fr").rows == []
        with pytest.raises(NotFound):
            status.matrix(session, 999_999)


def test_the_bible_is_edited_with_checks_and_audited(db, track):
    with db.transaction() as session:
        ana = user(session, "ana")
        bible.save_term(
            session,
            track["series"],
            "Cole Group",
            kind="organisation",
            translations={"es": "Grupo Cole"},
            actor=ana,
        )
        lena = session.exec(select(Character).where(Character.name == "Lena")).one()
        bible.save_character(session, lena.id, language="es", voice="es+f3", actor=ana)
    with db.session() as session:
        term = session.exec(select(Term).where(Term.term == "Cole Group")).one()
        assert term.translations == {"es": "Grupo Cole"}
        lena = session.exec(select(Character).where(Character.name == "Lena")).one()
        assert lena.voices["es"]["voice"] == "es+f3"
    with db.transaction() as session:
        with pytest.raises(InvalidInput, match="unknown espeak-ng voice variant"):
            bible.save_character(session, lena.id, language="es", voice="es+nosuch", actor=None)
        with pytest.raises(InvalidInput, match="not a voice name"):
            bible.save_character(session, lena.id, language="es", voice="<b>", actor=None)
        with pytest.raises(InvalidInput, match="kind is one of"):
            bible.save_term(session, track["series"], "X", kind="weird", actor=None)
    with db.session() as session:
        actions = {
            e.action for e in session.exec(select(AuditEvent).where(AuditEvent.actor == "ana"))
        }
    assert {"bible.term", "bible.character"} <= actions
