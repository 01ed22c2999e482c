import json
import math
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localization.qc import check, report_text, summary
from localization.rules import rules_for
from localization.segmentation import Cue, segment
from localization.subtitles import dumps, read_cues

EN = rules_for("en")  # vertical: 26 characters, 22 per second


# A Latin word in CJK text, with the punctuation no line may start with.
LATIN_WORD = r"[A-Za-z]+[，。？！、；：…」』）]*"


def fine_cues(count: int, *, start: float = 0.0) -> list[Cue]:
    """Cues that break no rule: 1 s each, 1 s apart."""
    return [Cue(start + 2 * k, start + 2 * k + 1, ("Fine.",)) for k in range(count)]


def rules_broken(violations) -> list[tuple[str, int]]:
    return [(v.rule, v.cue) for v in violations]


def test_a_clean_track_has_no_violations():
    assert check(fine_cues(5), EN, fps=25, duration_s=10) == []


def test_a_long_line_is_reported_with_its_numbers():
    cues = [*fine_cues(13), Cue(30, 32, ("Short enough.", "This second line is too long."))]
    (violation,) = check(cues, EN, fps=24)
    assert violation.rule == "max_chars"
    assert violation.cue == 14
    assert violation.severity == "error"
    assert (violation.value, violation.limit) == (29, 26)
    assert violation.message == "Line 2 of cue 14 has 29 characters; the limit is 26."
    assert violation.forced_by_speech is False


def test_a_word_longer_than_the_line_forces_the_violation():
    (violation,) = check([Cue(0, 3, ("Supercalifragilisticexpialidocious!",))], EN, fps=24)
    assert violation.rule == "max_chars"
    assert violation.forced_by_speech is True


def test_chinese_counts_characters():
    rules = rules_for("zh", "broadcast")  # 16
    (violation,) = check([Cue(0, 3, ("我知道你昨天晚上去了哪里但是我不会",))], rules, fps=24)
    assert (violation.rule, violation.value, violation.limit) == ("max_chars", 17, 16)


@pytest.mark.parametrize(("text", "broken"), [("A" * 26, False), ("A" * 27, True)])
def test_japanese_half_width_characters_count_half(text, broken):
    rules = rules_for("ja", "broadcast")  # 13 full-width
    violations = check([Cue(0, 7, (text,))], rules, fps=24)
    assert [v.rule for v in violations if v.rule == "max_chars"] == (
        ["max_chars"] if broken else []
    )


def test_korean_latin_counts_half():
    rules = rules_for("ko", "broadcast")  # 16
    assert check([Cue(0, 3, ("Hi! 사랑해요 정말 고마워요 진짜!",))], rules, fps=24) == []  # 16
    (violation,) = check([Cue(0, 3, ("Hi! 사랑해요 정말 고마워요 진짜요!",))], rules, fps=24)
    assert violation.value == 17


def test_too_many_lines():
    lines = ("This is line one.", "This is line two.", "This is line three.")
    (violation,) = check([Cue(0, 3, lines)], EN, fps=24)
    assert (violation.rule, violation.value, violation.limit) == ("max_lines", 3, 2)
    assert violation.message == "Cue 1 has 3 lines; the limit is 2."


def test_two_lines_that_fit_on_one_are_a_warning():
    (violation,) = check([Cue(0, 3, ("Sign the", "contract."))], EN, fps=24)
    assert (violation.rule, violation.severity) == ("unneeded_break", "warning")


def test_reading_speed_is_reported_and_forced_when_the_next_cue_leaves_no_room():
    cues = [Cue(0, 1, ("I will never forgive you",)), Cue(1.1, 3, ("Never.",))]
    (violation,) = check(cues, EN, fps=24)
    assert (violation.rule, violation.severity) == ("max_cps", "warning")
    assert violation.value == pytest.approx(24.0)
    assert violation.message == "Cue 1 must be read at 24.0 characters per second; the limit is 22."
    assert violation.forced_by_speech is True


def test_reading_speed_is_not_forced_when_free_time_follows():
    (violation,) = check([Cue(0, 1, ("I will never forgive you",))], EN, fps=24)
    assert violation.forced_by_speech is False


def test_a_cue_with_no_time_cannot_be_read():
    violations = check([Cue(1, 1, ("Hi.",))], EN, fps=24)
    assert [v.rule for v in violations] == ["min_duration", "max_cps"]
    assert violations[1].value == math.inf


@pytest.mark.parametrize(("fps", "frames"), [(24, 20), (25, 21), (30, 25)])
def test_minimum_duration_in_frames_of_the_episode(fps, frames):
    short = Cue(0, (frames - 1) / fps, ("Hi.",))
    (violation,) = check([short], EN, fps=fps)
    assert violation.rule == "min_duration"
    assert f"({frames} frames at {fps} fps)" in violation.message
    assert violation.forced_by_speech is False
    assert check([Cue(0, frames / fps, ("Hi.",))], EN, fps=fps) == []


def test_a_short_cue_squeezed_by_the_next_one_is_forced_by_the_speech():
    cues = [Cue(1.0, 1.2, ("No.",)), Cue(1.3, 3.0, ("Sign it.",))]
    (violation,) = check(cues, EN, fps=24)
    assert (violation.rule, violation.forced_by_speech) == ("min_duration", True)


def test_a_short_cue_at_the_episode_end_is_forced_by_the_speech():
    (violation,) = check([Cue(9.8, 10.0, ("No.",))], EN, fps=24, duration_s=10.0)
    assert violation.forced_by_speech is True


def test_a_cue_over_seven_seconds():
    (violation,) = check([Cue(0, 7.5, ("Hmm.",))], EN, fps=24)
    assert (violation.rule, violation.severity, violation.value) == ("max_duration", "error", 7.5)


@pytest.mark.parametrize(("fps", "gap", "rule"), [(24, 1, "min_gap"), (24, 0, "min_gap")])
def test_cues_closer_than_two_frames(fps, gap, rule):
    cues = [Cue(0, 1, ("One.",)), Cue(1 + gap / fps, 2.5, ("Two.",))]
    (violation,) = check(cues, EN, fps=fps)
    assert (violation.rule, violation.cue, violation.value, violation.limit) == (rule, 1, gap, 2)


@pytest.mark.parametrize(
    ("fps", "gap", "reported"), [(24, 11, True), (24, 12, False), (30, 14, True)]
)
def test_gaps_under_half_a_second_should_be_closed(fps, gap, reported):
    cues = [Cue(0, 1, ("One.",)), Cue(1 + gap / fps, 2.5, ("Two.",))]
    violations = check(cues, EN, fps=fps)
    assert rules_broken(violations) == ([("short_gap", 1)] if reported else [])


def test_a_gap_that_closing_would_stretch_past_seven_seconds_is_forced():
    cues = [Cue(0, 7, ("One.",)), Cue(7.2, 8.5, ("Two.",))]
    (violation,) = check(cues, EN, fps=25)
    assert (violation.rule, violation.forced_by_speech) == ("short_gap", True)


def test_overlaps_are_found_between_any_two_cues():
    cues = [Cue(0, 5, ("Long.",)), Cue(1, 2, ("Two.",)), Cue(3, 4, ("Three.",))]
    overlaps = [v for v in check(cues, EN, fps=24) if v.rule == "overlap"]
    assert [(v.cue, v.value) for v in overlaps] == [(1, 1.0), (1, 1.0)]
    assert overlaps[0].message == "Cue 1 overlaps cue 2 by 1.000 s."


def test_cues_out_of_order_are_checked_in_time_order():
    cues = [Cue(3, 4, ("Two.",)), Cue(0, 2.95, ("One.",))]
    assert rules_broken(check(cues, EN, fps=24)) == [("min_gap", 2)]


def test_a_cue_outside_the_episode():
    cues = [Cue(-0.5, 1, ("Early.",)), Cue(9, 10.5, ("Late.",))]
    violations = [v for v in check(cues, EN, fps=24, duration_s=10) if v.rule == "outside_episode"]
    assert [(v.cue, v.value, v.limit) for v in violations] == [(1, -0.5, 0), (2, 10.5, 10)]
    assert violations[1].message == "Cue 2 ends at 10.500 s, after the episode ends at 10.000 s."


def test_empty_cues_and_lines():
    cues = [Cue(0, 1, ("",)), Cue(2, 3, ("Hi.", " "))]
    violations = check(cues, EN, fps=24)
    assert [(v.rule, v.cue, v.message) for v in violations] == [
        ("empty", 1, "Cue 1 has no text."),
        ("empty", 2, "Line 2 of cue 2 is empty."),
        ("unneeded_break", 2, "Cue 2 is broken into 2 lines but fits on one (3 characters of 26)."),
    ]


def test_violations_carry_the_dialogue_line():
    cues = [Cue(0, 1, ("Fine.",), line_index=0), Cue(2, 4, ("x" * 30,), line_index=7)]
    (violation,) = check(cues, EN, fps=24)
    assert (violation.rule, violation.line_index) == ("max_chars", 7)


def test_summary_counts_by_rule_and_severity_as_json():
    cues = [Cue(0, 0.5, ("x" * 30,)), Cue(0.4, 9, ("One.", "Two.", "Three."))]
    counts = summary(check(cues, EN, fps=25))
    assert json.loads(json.dumps(counts)) == counts
    assert counts["total"] == counts["errors"] + counts["warnings"]
    assert counts["by_rule"]["max_chars"] == 1
    assert counts["by_rule"]["overlap"] == 1
    assert counts["by_severity"] == {"error": counts["errors"], "warning": counts["warnings"]}
    assert summary([]) == {
        "total": 0,
        "errors": 0,
        "warnings": 0,
        "forced_by_speech": 0,
        "by_rule": {},
        "by_severity": {"error": 0, "warning": 0},
    }


def test_report_states_the_profiles_numbers_and_every_violation():
    cues = [*fine_cues(13), Cue(30, 32, ("Short enough.", "This second line is too long."))]
    violations = check(cues, EN, fps=24)
    report = report_text(violations, EN)
    assert "en, vertical profile" in report
    assert "26 characters per line" in report
    assert "1 line preferred, 2 at most" in report
    assert "22 characters per second" in report
    assert "0.83 s to 7 s per cue" in report
    assert "at least 2 frames between cues" in report
    assert "1 error, 0 warnings" in report
    assert "cue 14" in report and "Line 2 of cue 14 has 29 characters; the limit is 26." in report


def test_report_explains_how_japanese_counts():
    report = report_text([], rules_for("ja", "broadcast"))
    assert "13 characters per line (half-width characters count 0.5)" in report
    assert "2 lines at most, 1 when the text fits" in report
    assert "0 errors, 0 warnings." in report


def test_speech_forced_violations_of_a_segmented_track_are_reported_not_hidden():
    lines = [("No.", 1.0, 1.3), ("Sign the contract now, Mary.", 1.3, 2.2)]
    cues = segment(lines, EN, fps=24, duration_s=2.5)
    violations = check(cues, EN, fps=24, duration_s=2.5)
    assert ("min_duration", 1) in rules_broken(violations)
    assert all(v.forced_by_speech for v in violations)
    assert not {"overlap", "min_gap", "outside_episode"} & {v.rule for v in violations}


def test_a_track_is_judged_the_same_after_a_trip_through_srt_and_vtt():
    lines = [("No.", 1.0, 1.3), ("Sign the contract, and you will be my wife.", 1.3, 3.0)]
    cues = segment(lines, EN, fps=24, duration_s=4)
    before = rules_broken(check(cues, EN, fps=24, duration_s=4))
    for fmt in ("srt", "vtt", "ass"):
        after = check(read_cues(dumps(cues, fmt, rules=EN)), EN, fps=24, duration_s=4)
        assert rules_broken(after) == before, fmt


# --- QC against an independent, brute-force reading of the rules ---------------------------

SEVERITY = {
    "max_chars": "error",
    "max_lines": "error",
    "empty": "error",
    "overlap": "error",
    "min_gap": "error",
    "outside_episode": "error",
    "max_duration": "error",
    "unneeded_break": "warning",
    "short_gap": "warning",
    "min_duration": "warning",
    "max_cps": "warning",
}
HARD = {"max_chars", "max_lines", "empty", "overlap", "min_gap", "outside_episode", "max_duration"}


def nearest_frames(seconds, fps):
    return math.floor(seconds * fps + 0.5 + 1e-9)


def brute_force(cues, rules, fps, duration_s):
    """Every (rule, cue, severity, forced) the rules define, found the slow and plain way."""
    found = Counter()

    def report(rule, k, forced=False):
        found[(rule, k + 1, SEVERITY[rule], forced)] += 1

    shortest = math.ceil(rules.min_duration * fps - 1e-6)
    longest = math.floor(rules.max_duration * fps + 1e-6)
    order = sorted(range(len(cues)), key=lambda k: cues[k].start)
    for k, cue in enumerate(cues):
        text = "".join(cue.lines)
        if not text.strip():
            report("empty", k)
        else:
            for line in cue.lines:
                if not line.strip():
                    report("empty", k)
            if len(cue.lines) > rules.max_lines:
                report("max_lines", k)
            for line in cue.lines:
                if rules.length(line) > rules.max_chars:
                    words = re.findall(LATIN_WORD, line) if rules.cjk else line.split()
                    report("max_chars", k, any(rules.length(w) > rules.max_chars for w in words))
            written = [line.strip() for line in cue.lines if line.strip()]
            one_line = ("" if rules.cjk else " ").join(written)
            if len(cue.lines) > 1 and rules.length(one_line) <= rules.max_chars:
                report("unneeded_break", k)
        if cue.start < -0.005 or (duration_s is not None and cue.end > duration_s + 0.005):
            report("outside_episode", k)
        later = order[order.index(k) + 1 :]
        for j in later:
            if cues[j].start < cue.end - 0.005:
                report("overlap", k)
        upcoming = cues[later[0]] if later else None
        if upcoming is not None and upcoming.start >= cue.end - 0.005:
            gap = nearest_frames(upcoming.start - cue.end, fps)
            if gap < 2:
                report("min_gap", k)
            elif 2 < gap < 0.5 * fps - 1e-6:
                report(
                    "short_gap", k, nearest_frames(upcoming.start - cue.start, fps) - 2 > longest
                )
        # The most frames the cue could last, on the same grid the segmenter uses.
        first = nearest_frames(cue.start, fps)
        last = first + longest
        if upcoming is not None:
            last = min(last, nearest_frames(upcoming.start, fps) - 2)
        if duration_s is not None:
            last = min(last, math.floor(duration_s * fps + 1e-6))
        room = last - first
        length = nearest_frames(cue.end - cue.start, fps)
        if length > longest:
            report("max_duration", k)
        if length < shortest:
            report("min_duration", k, room < shortest)
        characters = sum(rules.length(line) for line in cue.lines)
        seconds = cue.end - cue.start
        cps = characters / seconds if seconds > 0 else math.inf
        if cps > rules.max_cps + 0.05:
            no_room = room <= max(length, 0)
            report("max_cps", k, no_room or characters * fps / room > rules.max_cps + 0.05)
    return found


def as_counter(violations):
    return Counter((v.rule, v.cue, v.severity, v.forced_by_speech) for v in violations)


SETUPS = [("en", "vertical"), ("en", "broadcast"), ("zh", "vertical"), ("ja", "broadcast")]
TEXTS = [
    "",
    " ",
    "Hi.",
    "Sign the contract.",
    "Sign the",
    "contract.",
    "This line is a little too long for a phone.",
    "Antidisestablishmentarianism",
    "我知道。",
    "我知道你昨天晚上去了哪里",
    "iPhone",
    "Supercalifragilistic",
    "OKです",
]


@st.composite
def any_tracks(draw):
    """Tracks as a reviewer might leave them: any text, any times, in any order."""
    language, profile = draw(st.sampled_from(SETUPS))
    cues = []
    for _ in range(draw(st.integers(0, 8))):
        start = draw(st.floats(-1, 12).map(lambda t: round(t, 3)))
        length = draw(st.sampled_from([0, 0.02, 0.3, 0.8, 0.84, 1.5, 6.99, 7.0, 7.2, 9]))
        lines = tuple(draw(st.lists(st.sampled_from(TEXTS), min_size=0, max_size=3)))
        cues.append(Cue(start, round(start + length, 3), lines, line_index=len(cues)))
    fps = draw(st.sampled_from([23.976, 24, 25, 29.97, 30, 60]))
    duration_s = draw(st.sampled_from([None, 5.0, 10.0, 12.5]))
    return rules_for(language, profile), cues, fps, duration_s


@settings(max_examples=150, deadline=None)
@given(any_tracks())
def test_qc_reports_exactly_what_a_brute_force_check_finds(track):
    rules, cues, fps, duration_s = track
    violations = check(cues, rules, fps=fps, duration_s=duration_s)
    assert as_counter(violations) == brute_force(cues, rules, fps, duration_s)
    assert all(v.message and v.cue >= 1 for v in violations)


ENGLISH_WORDS = [
    "the",
    "my",
    "John",
    "Wellington",
    "I",
    "you",
    "don't",
    "never",
    "and",
    "contract,",
    "wife.",
    "money?",
    "love!",
    "beautiful",
    "Antidisestablishmentarianism",
    "Incomprehensibilities",
    "sign",
    "forgive",
    "remember",
]
CHINESE_WORDS = [
    "我",
    "知道",
    "什么",
    "但是",
    "合同",
    "，",
    "。",
    "？",
    "iPhone",
    "Supercalifragilistic",
]


@st.composite
def dialogue(draw):
    """Dialogue with realistic timing: 0.1-0.6 s a word, gaps from crosstalk to pauses."""
    language, profile = draw(st.sampled_from(SETUPS))
    vocabulary, glue = (CHINESE_WORDS, "") if language in ("zh", "ja") else (ENGLISH_WORDS, " ")
    lines, clock = [], draw(st.floats(0, 2))
    for _ in range(draw(st.integers(1, 8))):
        words = draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=16))
        clock = max(0.0, clock + draw(st.sampled_from([-0.3, 0, 0.04, 0.2, 0.45, 1.0, 2.5])))
        length = len(words) * draw(st.floats(0.1, 0.6))
        lines.append((glue.join(words), clock, clock + length))
        clock += length
    fps = draw(st.sampled_from([23.976, 24, 25, 29.97, 30]))
    tail = draw(st.sampled_from([None, 0.0, 0.3, 2.0]))
    return rules_for(language, profile), lines, fps, None if tail is None else clock + tail


@settings(max_examples=150, deadline=None)
@given(dialogue())
def test_segmented_tracks_break_only_rules_the_speech_forces_and_qc_says_so(track):
    rules, lines, fps, duration_s = track
    cues = segment(lines, rules, fps=fps, duration_s=duration_s)
    expected = brute_force(cues, rules, fps, duration_s)
    assert as_counter(check(cues, rules, fps=fps, duration_s=duration_s)) == expected
    for rule, cue, _, forced in expected:
        assert forced, (rule, cues[cue - 1])
        assert rule not in HARD - {"max_chars"}
