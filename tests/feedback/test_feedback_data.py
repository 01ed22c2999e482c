"""The feedback loop on the database: vocabularies, tagging, suggestions, the brief, history."""

from __future__ import annotations

import feedbackkit as kit
import pytest
from sqlmodel import select

from analytics.feedback import store, vocabulary
from analytics.feedback.slate import Rules
from hookline.clock import utcnow
from hookline.errors import Conflict, InvalidInput
from hookline.models import Episode, FeedbackPick, TermKind


def test_the_vocabularies_start_seeded(db):
    with db.session() as session:
        hooks = vocabulary.names(session, TermKind.HOOK)
        tropes = vocabulary.names(session, TermKind.TROPE)
    for name in ("slap_confrontation", "betrayal_reveal", "hidden_identity_reveal",
                 "rebirth_revenge", "contract_marriage", "cliffhanger_callback"):  # fmt: skip
        assert name in hooks
    assert "enemies_to_lovers" in tropes


def test_unknown_tags_are_refused_with_the_known_ones(db):
    with db.transaction() as session:
        ep = kit.episode(session, kit.series(session).id, 1, None)
        with pytest.raises(InvalidInput) as refused:
            vocabulary.tag_episode(session, ep.id, hook="zombie_attack", tropes=[])
        assert "zombie_attack" in refused.value.message
        assert "betrayal_reveal" in refused.value.message
        with pytest.raises(InvalidInput, match="'space_opera'"):
            vocabulary.tag_episode(session, ep.id, hook=None, tropes=["space_opera"])
        vocabulary.tag_episode(session, ep.id, hook="betrayal_reveal", tropes=["revenge"])
    with db.session() as session:
        saved = session.get(Episode, ep.id)
        assert (saved.hook_type, saved.tropes) == ("betrayal_reveal", ["revenge"])


def test_renaming_a_term_renames_it_on_episodes_and_retiring_stops_new_tags(db):
    with db.transaction() as session:
        s = kit.series(session)
        ep = kit.episode(session, s.id, 1, "betrayal_reveal", ["revenge", "rebirth"])
        hook = next(t for t in vocabulary.terms(session, "hook") if t.name == "betrayal_reveal")
        trope = next(t for t in vocabulary.terms(session, "trope") if t.name == "revenge")
        vocabulary.update_term(session, hook.id, name="betrayal_twist")
        vocabulary.update_term(session, trope.id, name="vengeance", keywords="avenge, vengeance")
        with pytest.raises(Conflict, match="already"):
            vocabulary.update_term(session, hook.id, name="secret_reveal")
        with pytest.raises(InvalidInput, match="lowercase"):
            vocabulary.add_term(session, "hook", "Bad Name!")
        vocabulary.update_term(session, hook.id, retired=True)
    with db.transaction() as session:
        saved = session.get(Episode, ep.id)
        assert saved.hook_type == "betrayal_twist"
        assert saved.tropes == ["vengeance", "rebirth"]
        assert "betrayal_twist" not in vocabulary.names(session, "hook")
        with pytest.raises(InvalidInput, match="Unknown hook 'betrayal_twist'"):
            vocabulary.tag_episode(session, ep.id, hook="betrayal_twist", tropes=[])
        added = vocabulary.add_term(session, "hook", "in_law_fight", keywords="mother-in-law")
        assert added.label == "in law fight"


def test_suggestions_come_from_keywords_in_the_transcript(db):
    with db.transaction() as session:
        ep = kit.episode(session, kit.series(session).id, 1, None)
        assert vocabulary.suggest(session, ep.id) == []
        kit.transcript(
            session,
            ep.id,
            ["You betrayed me behind my back!", "Sign here. One year, then we divorce.", "Fine."],
        )
        found = {(s.kind, s.name): s for s in vocabulary.suggest(session, ep.id)}
    assert ("hook", "betrayal_reveal") in found
    assert found[("hook", "betrayal_reveal")].lines == ["You betrayed me behind my back!"]
    assert ("hook", "contract_marriage") in found
    assert ("hook", "slap_confrontation") not in found


def test_the_brief_from_the_database_prefers_the_better_hook_and_leaves_out_untagged(db):
    with db.transaction() as session:
        kit.market(session, good="secret_reveal", bad="betrayal_reveal")
    with db.session() as session:
        brief = store.compose(session, Rules(size=10, exploration=0.1), now=utcnow())
    assert brief.untagged == 3
    [market] = brief.markets
    assert market.market == "es/tiktok" and market.posts == 24
    counts = market.slate.counts()
    # Hooks without posts could still be best, so they share the slate; the worse one of
    # the two with posts gets the fewest episodes.
    assert counts["secret_reveal"] > counts.get("betrayal_reveal", 0)
    best = next(p for p in market.slate.picks if p.role == "best")
    assert best.hook == "secret_reveal" and best.posts == 12
    assert best.rate_low < best.rate < best.rate_high
    chances = {row["hook"]: row["chance_best"] for row in market.hooks}
    assert chances["secret_reveal"] == max(chances.values()) > chances["betrayal_reveal"]


def test_too_little_data_says_so(db):
    with db.session() as session:
        empty = store.compose(session, Rules(), now=utcnow())
    assert empty.empty and "No data yet" in empty.note
    with db.transaction() as session:
        kit.market(session, good="secret_reveal", bad="betrayal_reveal", per_hook=3, untagged=0)
    with db.session() as session:
        small = store.compose(session, Rules(), now=utcnow())
    assert "Too little data" in small.markets[0].note


def test_bad_rules_and_kpis_say_what_is_wrong(db):
    with db.session() as session:
        with pytest.raises(InvalidInput, match="not in the vocabulary"):
            store.compose(session, Rules(must_include=("zombie",)), now=utcnow())
        with pytest.raises(InvalidInput, match="Unknown KPI"):
            store.compose(session, Rules(), kpi="likes", now=utcnow())


def test_saved_briefs_keep_their_picks_and_show_how_the_hooks_did_since(db):
    with db.transaction() as session:
        _, ch = kit.market(session, good="secret_reveal", bad="betrayal_reveal")
        brief = store.compose(session, Rules(size=6), now=utcnow())
        row = store.save(session, brief, kpi="hook_rate", by="analyst")
        assert "secret_reveal" in row.markdown and row.csv.startswith("market,episodes")
        # After the brief, one more secret_reveal episode goes out and does well.
        s = kit.series(session, "Second Series")
        later = kit.episode(session, s.id, 1, "secret_reveal")
        kit.post(session, later, ch, views=5000, rate=0.7, days_ago=-0.01)
    with db.session() as session:
        picks = session.exec(select(FeedbackPick).where(FeedbackPick.brief_id == row.id)).all()
        assert sum(p.count for p in picks) == 6
        [entry] = store.history(session, now=utcnow())
    outcome = next(o for o in entry.outcomes if o.hook == "secret_reveal")
    assert outcome.posts == 1 and outcome.rate == pytest.approx(0.7)


def test_follow_through_is_the_next_episodes_share_of_viewers_on_the_same_channel(db):
    with db.transaction() as session:
        s = kit.series(session)
        ch = kit.channel(session)
        other = kit.channel(session, platform="youtube", language="pt")
        views = {1: 10_000, 2: 6_000, 3: 4_500}
        for number, seen in views.items():
            ep = kit.episode(session, s.id, number, "betrayal_reveal")
            kit.post(session, ep, ch, views=seen, rate=0.5)
            if number == 1:
                kit.post(session, ep, other, views=8_000, rate=0.5)  # no episode 2 there yet
    with db.session() as session:
        found = store.records(session, kpi="follow_through", now=utcnow())
    rates = sorted((r.post.episode, r.post.market, r.post.successes / r.post.trials) for r in found)
    assert rates == [(1, "es/tiktok", 0.6), (2, "es/tiktok", 0.75)]
