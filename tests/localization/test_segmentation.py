import dataclasses
import re
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookline.errors import InvalidInput
from localization.rules import frames, rules_for
from localization.segmentation import (
    Cue,
    break_lines,
    cues_for_line,
    dialogue_cue,
    retime,
    segment,
)
from localization.speech import Utterance, Word

CJK_LINE_STARTS_FORBIDDEN = set("，。？！、；：」』）》”…")


# A Latin word in CJK text, with the punctuation no line may start with.
LATIN_WORD = r"[A-Za-z]+[，。？！、；：…」』）]*"


def two_line_layouts(text: str, limit: int) -> list[tuple[str, str]]:
    words = text.split()
    layouts = [(" ".join(words[:k]), " ".join(words[k:])) for k in range(1, len(words))]
    return [(a, b) for a, b in layouts if len(a) <= limit and len(b) <= limit]


# --- break_lines ---------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["vertical", "broadcast"])
def test_text_that_fits_stays_on_one_line(profile):
    assert break_lines("Sign the contract.", rules_for("en", profile)) == ("Sign the contract.",)


def test_spaces_and_line_breaks_of_the_source_are_collapsed():
    assert break_lines("  Sign\n the   contract. ", rules_for("en")) == ("Sign the contract.",)


def test_empty_text_has_no_lines():
    assert break_lines("  \n ", rules_for("en")) == ()


def test_a_long_line_is_broken_in_two_within_the_limit():
    text = "Everybody at the party last night knows the truth about you two"
    lines = break_lines(text, rules_for("en", "broadcast"))
    assert len(lines) == 2
    assert all(len(line) <= 42 for line in lines)
    assert " ".join(lines) == text


def test_lines_are_balanced_with_the_longer_one_at_the_bottom():
    rules = dataclasses.replace(rules_for("en"), max_chars=14)
    assert break_lines("rain wind fire snow hail", rules) == ("rain wind", "fire snow hail")
    lines = break_lines(
        "Nobody knows where they went after midnight yesterday evening",
        rules_for("en", "broadcast"),
    )
    assert lines == ("Nobody knows where they went", "after midnight yesterday evening")


def test_a_break_after_punctuation_is_preferred():
    lines = break_lines(
        "If you want the money, you have to ask John Wellington yourself",
        rules_for("en", "broadcast"),
    )
    assert lines[0] == "If you want the money,"


def test_a_break_before_a_conjunction_is_preferred():
    lines = break_lines(
        "We waited at the station for hours and nobody ever came for us",
        rules_for("en", "broadcast"),
    )
    assert lines == ("We waited at the station for hours", "and nobody ever came for us")


# Each phrase must never be split across lines when some layout keeps it whole.
TOGETHER = [
    ("en", "the truth", "Everybody at the party knows the truth about you two"),  # article
    ("en", "beautiful daughter", "You never told anyone about your beautiful daughter in Paris"),
    ("en", "John Wellington", "Nobody in this family has ever seen John Wellington smile"),
    ("en", "Mr. Wellington", "Nobody in this house has seen Mr. Wellington smile"),
    ("en", "she knows", "After everything that happened she knows what you did"),  # pronoun
    ("en", "don't go", "Whatever they tell you about me, don't go anywhere"),  # negation
    ("en", "will never", "I promised your mother that I will never leave you"),  # auxiliary
    ("es", "no es", "Te lo digo por última vez: esto no es lo que parece"),
    ("es", "la casa", "Mañana iremos todos juntos a ver la casa de tu padre"),
    ("es", "te quiero", "Aunque no lo creas, yo te quiero más que a nadie"),
    ("pt", "não sei", "Desde o começo dessa história eu não sei o que você quer"),
    ("pt", "a casa", "Amanhã vamos todos juntos ver a casa do seu pai"),
    ("fr", "sais pas", "Depuis le début de cette histoire je ne sais pas ce que tu veux"),
    ("fr", "la maison", "Demain nous irons tous ensemble voir la maison de ton père"),
    ("de", "ich nicht", "Seit dem Anfang dieser langen Geschichte weiß ich nicht mehr, was"),
    ("de", "die Wahrheit", "Alle in diesem Haus kennen die Wahrheit über euch beide"),
    ("it", "non so", "Dall'inizio di questa storia io non so cosa vuoi da me"),
    ("it", "la casa", "Domani andremo tutti insieme a vedere la casa di tuo padre"),
    ("ca", "no sé", "Des del començament d'aquesta història jo no sé què vols"),
    ("ca", "la casa", "Demà anirem tots junts a veure la casa del teu pare"),
    ("id", "tidak tahu", "Sejak awal cerita ini sampai sekarang aku tidak tahu maumu"),
    ("id", "rumah ini", "Semua orang di kota tahu siapa pemilik rumah ini sebenarnya"),
]


@pytest.mark.parametrize(("language", "phrase", "text"), TOGETHER)
def test_grammatical_pairs_are_never_split_across_lines(language, phrase, text):
    checked = 0
    for limit in range(len(text) // 2, len(text)):
        rules = dataclasses.replace(rules_for(language, "broadcast"), max_chars=limit)
        if any(phrase in a or phrase in b for a, b in two_line_layouts(text, limit)):
            checked += 1
            assert any(phrase in line for line in break_lines(text, rules)), limit
    assert checked >= 10


def test_a_french_question_mark_stays_with_its_word():
    rules = dataclasses.replace(rules_for("fr"), max_chars=12)
    for line in break_lines("Tu viens ce soir ? Oui !", rules):
        assert line[0] not in "?!"


def test_a_mandarin_line_breaks_at_the_comma():
    lines = break_lines(
        "我知道你昨天晚上去了哪里，但是我不会告诉任何人", rules_for("zh", "broadcast")
    )
    assert lines == ("我知道你昨天晚上去了哪里，", "但是我不会告诉任何人")


def test_chinese_counts_characters_against_its_own_limit():
    rules = rules_for("zh")  # 12 characters
    lines = break_lines("我知道你在想什么但是你必须相信我好吗", rules)
    assert lines == ("我知道你在想什么", "但是你必须相信我好吗")
    assert all(rules.length(line) <= 12 for line in lines)


def test_a_latin_word_inside_chinese_is_never_split():
    lines = break_lines("他们都在用Instagram发照片", rules_for("zh"))
    assert lines == ("他们都在用", "Instagram发照片")


def test_full_width_punctuation_is_kept_and_never_starts_a_line():
    text = "你为什么不告诉我？我一直在等你，等了整整三年。你知道吗？"
    for profile in ("vertical", "broadcast"):
        cues = cues_for_line(text, 0, 8, rules_for("zh", profile))
        lines = [line for cue in cues for line in cue.lines]
        assert "".join(lines) == text
        assert not any(line[0] in CJK_LINE_STARTS_FORBIDDEN for line in lines)


def test_japanese_half_width_characters_count_half():
    text = "ABCDEFGHIJ KLMNOPQRS"  # 20 half-width characters: 10 in Japanese
    assert break_lines(text, rules_for("ja")) == (text,)
    assert len(break_lines(text, rules_for("zh"))) == 2


def test_japanese_breaks_after_its_comma():
    assert break_lines("東京に着いたら、すぐに電話してください", rules_for("ja")) == (
        "東京に着いたら、",
        "すぐに電話してください",
    )


def test_japanese_small_kana_and_long_vowels_never_start_a_line():
    rules = dataclasses.replace(rules_for("ja"), max_chars=4)
    for cue in cues_for_line("ちょっとミルクティーをください", 0, 10, rules):
        assert not any(line[0] in "ょっーぃ" for line in cue.lines)


def test_korean_latin_letters_and_spaces_count_half():
    rules = rules_for("ko")  # 12
    assert rules.length("OK, 알았어요. 그럼 내일") == 11.5
    assert break_lines("OK, 알았어요. 그럼 내일 아침에 봐요", rules) == (
        "OK, 알았어요.",
        "그럼 내일 아침에 봐요",
    )


def test_thai_breaks_at_a_space_between_phrases():
    rules = rules_for("th")
    lines = break_lines("ฉันรักเธอมากที่สุดในโลก แต่เธอไม่เคยรู้เลย", rules)
    assert lines == ("ฉันรักเธอมากที่สุดในโลก", "แต่เธอไม่เคยรู้เลย")


def test_only_a_word_longer_than_a_line_overflows_it():
    rules = rules_for("en")
    text = "Look at the Supercalifragilisticexpialidocious thing over there, darling"
    lines = [line for cue in cues_for_line(text, 0, 6, rules) for line in cue.lines]
    assert " ".join(lines) == text
    overflowing = [line for line in lines if len(line) > 26]
    assert overflowing == ["Supercalifragilisticexpialidocious"]


def test_dialogue_cue_uses_the_languages_dash():
    assert dialogue_cue(["Who?", "Me."], rules_for("en")) == ("-Who?", "-Me.")
    assert dialogue_cue(["¿Quién?", "Yo."], rules_for("es")) == ("- ¿Quién?", "- Yo.")


def test_dialogue_cue_holds_two_speakers_at_most():
    with pytest.raises(InvalidInput, match="2 to 2"):
        dialogue_cue(["A.", "B.", "C."], rules_for("en"))


# --- cues_for_line -------------------------------------------------------------------------


def test_a_short_line_is_one_cue_over_its_whole_slot():
    cues = cues_for_line("Sign it.", 1.0, 2.5, rules_for("en"), speaker="Ann", line_index=4)
    assert cues == [Cue(1.0, 2.5, ("Sign it.",), "Ann", 4)]


def test_empty_text_gives_no_cue():
    assert cues_for_line(" ", 1.0, 2.0, rules_for("en")) == []


def test_a_line_ending_before_it_starts_is_refused():
    with pytest.raises(InvalidInput, match="before it starts"):
        cues_for_line("Hi.", 2.0, 1.0, rules_for("en"))


def test_vertical_cuts_a_long_line_into_short_cues_at_sentences_and_clauses():
    text = "Sign the contract, and you will be my wife for one year. After that, you are free."
    cues = cues_for_line(text, 1.0, 7.0, rules_for("en"))
    assert [cue.lines for cue in cues] == [
        ("Sign the contract,",),
        ("and you will be my wife",),
        ("for one year.",),
        ("After that, you are free.",),
    ]
    assert cues[0].start == 1.0 and cues[-1].end == 7.0
    assert all(a.end == pytest.approx(b.start) for a, b in pairwise(cues))


def test_cue_times_are_proportional_to_their_length():
    cues = cues_for_line(
        "Yes, I know exactly where you went. I saw you there.", 0, 5.2, rules_for("en")
    )
    lengths = [sum(map(len, cue.lines)) for cue in cues]
    assert len(cues) > 1
    for cue, length in zip(cues, lengths, strict=True):
        assert cue.duration / 5.2 == pytest.approx(length / sum(lengths), abs=0.05)


def test_a_short_first_sentence_keeps_the_minimum_duration_when_the_slot_allows():
    cues = cues_for_line(
        "No. I know exactly what you did last summer, Mary.", 0, 3.5, rules_for("en")
    )
    assert cues[0].lines == ("No.",)
    assert cues[0].duration == pytest.approx(5 / 6)


def test_a_translation_gets_as_many_cues_as_its_own_rules_need():
    source = cues_for_line(
        "Where were you last night? Tell me.", 0, 4, rules_for("en", "broadcast")
    )
    target = cues_for_line("你昨天晚上去哪里了？告诉我，你到底和谁在一起？", 0, 4, rules_for("zh"))
    assert [cue.lines for cue in source] == [("Where were you last night? Tell me.",)]
    assert [cue.lines for cue in target] == [
        ("你昨天晚上去哪里了？",),
        ("告诉我，",),
        ("你到底和谁在一起？",),
    ]
    assert all(rules_for("zh").length(line) <= 12 for cue in target for line in cue.lines)


def test_word_timings_place_cues_at_the_words():
    words = (
        Word("Sign", 1.0, 1.3),
        Word(" the", 1.3, 1.4),
        Word(" contract,", 1.4, 1.9),
        Word(" and", 2.6, 2.7),
        Word(" you", 2.7, 2.8),
        Word(" will", 2.8, 2.9),
        Word(" be", 2.9, 3.0),
        Word(" my", 3.0, 3.1),
        Word(" wife.", 3.1, 3.6),
    )
    text = "Sign the contract, and you will be my wife."
    cues = cues_for_line(text, 1.0, 3.6, rules_for("en"), words=words)
    assert [cue.lines for cue in cues] == [("Sign the contract,",), ("and you will be my wife.",)]
    assert cues[0].start == 1.0
    assert cues[0].end == pytest.approx(1.9)  # the last word's end: 0.9 s is readable
    assert cues[1].start == pytest.approx(2.6)  # the first word's start, not 18/43 of the slot
    assert cues[1].end == 3.6


def test_word_timings_survive_punctuation_and_spacing_differences():
    words = (
        Word("你好", 0.0, 0.4),
        Word("，", 0.4, 0.4),
        Word("我是", 2.0, 2.3),
        Word("李明", 2.3, 2.8),
    )
    rules = dataclasses.replace(rules_for("zh"), max_chars=4)
    cues = cues_for_line("你好，我是李明", 0.0, 2.8, rules, words=words)
    assert [cue.lines for cue in cues] == [("你好，",), ("我是李明",)]
    assert cues[1].start == pytest.approx(2.0)


def test_no_cue_outlasts_the_maximum_duration():
    text = " ".join(["We have been walking through this forest for days and nights"] * 4)
    cues = cues_for_line(text, 0, 30, rules_for("en", "broadcast"))
    assert all(cue.duration <= 7.0 for cue in cues)
    short = cues_for_line("I love you.", 0, 20, rules_for("en", "broadcast"))
    assert short == [Cue(0, 7.0, ("I love you.",))]


# --- segment and retime --------------------------------------------------------------------


def test_segment_takes_tuples_and_utterances():
    rules = rules_for("en")
    from_tuples = segment([("Hi.", 1.0, 2.0, "Ann"), ("Bye.", 3.0, 4.0)], rules, fps=25)
    from_speech = segment(
        [Utterance(1.0, 2.0, "Hi.", "Ann"), Utterance(3.0, 4.0, "Bye.")], rules, fps=25
    )
    assert from_tuples == from_speech
    assert [(c.speaker, c.line_index) for c in from_tuples] == [("Ann", 0), (None, 1)]


@pytest.mark.parametrize(
    ("fps", "gap", "closed"),
    [
        (24, 3, True),
        (24, 11, True),
        (24, 12, False),
        (25, 12, True),
        (25, 13, False),
        (30, 14, True),
        (30, 15, False),
        (24, 2, False),
    ],
)
def test_small_gaps_are_closed_to_two_frames(fps, gap, closed):
    second = 2.0 + gap / fps
    cues = segment(
        [("Hello there.", 1.0, 2.0), ("Hello again.", second, 3.5)], rules_for("en"), fps=fps
    )
    assert frames(cues[1].start - cues[0].end, fps) == (2 if closed else gap)
    assert cues[1].start == pytest.approx(second, abs=0.001)  # speech sets the in-time


@pytest.mark.parametrize("fps", [23.976, 24, 25, 29.97, 30])
def test_touching_lines_get_the_minimum_gap_by_trimming_the_first(fps):
    cues = segment(
        [("Hello there.", 1.0, 2.0), ("Hello again.", 2.0, 3.0)], rules_for("en"), fps=fps
    )
    assert frames(cues[1].start - cues[0].end, fps) == 2
    assert frames(cues[1].start, fps) == frames(2.0, fps)


def test_overlapping_speech_never_gives_overlapping_cues():
    lines = [("You never listen to me!", 1.0, 3.0, "A"), ("Because you lie!", 2.2, 3.5, "B")]
    first, second = segment(lines, rules_for("en"), fps=24)
    assert frames(second.start - first.end, 24) >= 2
    assert first.duration >= 5 / 6 - 0.001


def test_a_short_line_is_extended_into_free_time_to_the_minimum_duration():
    (cue,) = segment([("No.", 1.0, 1.3)], rules_for("en"), fps=24)
    assert (cue.start, cue.end) == (1.0, round(1 + 20 / 24, 3))
    (cue,) = segment([("はい", 1.0, 1.2)], rules_for("ja"), fps=24)
    assert cue.end == 1.5  # Japanese minimum: 0.5 s


def test_a_short_line_is_extended_for_reading_speed_as_well():
    (cue,) = segment([("I will never forgive you for this.", 1.0, 2.0)], rules_for("en"), fps=25)
    assert cue.cps(rules_for("en")) <= 22
    assert cue.end == pytest.approx(1 + 34 / 22, abs=0.04)


def test_extension_stops_before_the_next_cue():
    cues = segment([("No.", 1.0, 1.3), ("Why not?", 1.6, 3.0)], rules_for("en"), fps=24)
    assert frames(cues[1].start - cues[0].end, 24) == 2
    assert cues[1].start == pytest.approx(38 / 24, abs=0.001)  # 1.6 s, on the frame grid
    assert cues[0].end == pytest.approx(36 / 24, abs=0.001)


def test_extension_stops_at_the_episode_end():
    (cue,) = segment([("No.", 9.7, 9.9)], rules_for("en"), fps=25, duration_s=10.0)
    assert cue.end == 10.0


def test_a_cue_never_runs_past_the_episode_end():
    (cue,) = segment([("Goodbye, my love.", 8.0, 10.4)], rules_for("en"), fps=25, duration_s=10.0)
    assert cue.end == 10.0


def test_times_fall_on_the_frame_grid():
    lines = [("Hello there.", 1.013, 2.111), ("General Kenobi!", 2.347, 3.9)]
    for fps in (23.976, 25, 29.97):
        for cue in segment(lines, rules_for("en"), fps=fps):
            for time in (cue.start, cue.end):
                assert time * fps == pytest.approx(round(time * fps), abs=0.02)


def test_speech_that_forces_a_short_cue_is_left_short_not_overlapped():
    lines = [("No.", 1.0, 1.3), ("Sign the contract now.", 1.3, 4.0)]
    first, second = segment(lines, rules_for("en"), fps=24)
    assert first.duration < 5 / 6
    assert frames(second.start - first.end, 24) == 2
    assert second.start == pytest.approx(1.292, abs=0.001)


def test_retime_keeps_text_speaker_and_line():
    cue = Cue(1.0, 1.1, ("Hm.",), "Ann", 3)
    (fixed,) = retime([cue], rules_for("en"), fps=25)
    assert (fixed.lines, fixed.speaker, fixed.line_index) == (("Hm.",), "Ann", 3)
    assert fixed.duration == pytest.approx(0.84)


def test_retime_refuses_a_frame_rate_of_zero():
    with pytest.raises(InvalidInput):
        retime([], rules_for("en"), fps=0)


def test_cue_text_and_reading_speed():
    cue = Cue(0.0, 2.0, ("Sign the", "contract."))
    assert cue.text == "Sign the\ncontract."
    assert cue.cps(rules_for("en")) == 8.5
    assert Cue(1.0, 1.0, ("Hi",)).cps(rules_for("en")) == float("inf")


# --- properties ----------------------------------------------------------------------------


def vocabulary(words: str) -> list[str]:
    return words.split()


ENGLISH = vocabulary(
    "the a my your John Wellington Mary I you she we they don't won't never not and but "
    "because contract, wife. money? love! tonight. house forever, beautiful little secret "
    "Antidisestablishmentarianism Supercalifragilisticexpialidocious Incomprehensibilities "
    "Mr. go sign forgive remember everything happened yesterday"
)
CHINESE = vocabulary(
    "我 你 他 知道 什么 但是 因为 所以 合同 老婆 一年 ， 。 ？ ！ 、 iPhone CEO "
    "Instagram Supercalifragilistic 真的 不 是 爱 结婚 离婚 公司"
)
SETUPS = [
    ("en", "vertical", ENGLISH, " "),
    ("en", "broadcast", ENGLISH, " "),
    ("es", "vertical", ENGLISH, " "),
    ("zh", "vertical", CHINESE, ""),
    ("zh", "broadcast", CHINESE, ""),
    ("ja", "vertical", CHINESE, ""),
]


@st.composite
def tracks(draw):
    """Dialogue lines with realistic timing: 0.1-0.6 s a word, gaps from crosstalk to pauses."""
    language, profile, vocabulary, glue = draw(st.sampled_from(SETUPS))
    lines, clock = [], draw(st.floats(0, 2))
    for _ in range(draw(st.integers(1, 8))):
        words = draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=16))
        clock = max(0.0, clock + draw(st.sampled_from([-0.3, 0, 0.04, 0.2, 0.45, 1.0, 2.5])))
        length = len(words) * draw(st.floats(0.1, 0.6))
        lines.append((glue.join(words), clock, clock + length, draw(st.sampled_from("AB"))))
        clock += length
    fps = draw(st.sampled_from([23.976, 24, 25, 29.97, 30]))
    tail = draw(st.sampled_from([None, 0.0, 0.3, 2.0]))
    return rules_for(language, profile), lines, fps, None if tail is None else clock + tail


def unbreakable_words(line, rules):
    return re.findall(LATIN_WORD, line) if rules.cjk else line.split()


@settings(max_examples=150, deadline=None)
@given(tracks())
def test_segmented_tracks_keep_every_hard_rule_unless_a_word_is_too_long(track):
    rules, lines, fps, duration_s = track
    cues = segment(lines, rules, fps=fps, duration_s=duration_s)
    assert [c.start for c in cues] == sorted(c.start for c in cues)
    for cue in cues:
        assert 1 <= len(cue.lines) <= rules.max_lines
        for line in cue.lines:
            assert line.strip()
            if rules.length(line) > rules.max_chars:
                words = unbreakable_words(line, rules)
                too_long = [w for w in words if rules.length(w) > rules.max_chars]
                assert too_long, line
        assert 0 <= cue.start < cue.end
        assert frames(cue.duration, fps) <= rules.max_duration_frames(fps)
        if duration_s is not None:
            assert cue.end <= duration_s + 0.0005
    for a, b in pairwise(cues):
        assert frames(b.start - a.end, fps) >= rules.min_gap_frames


@settings(max_examples=150, deadline=None)
@given(tracks())
def test_segmentation_loses_no_text_and_keeps_each_lines_order(track):
    rules, lines, fps, duration_s = track
    cues = segment(lines, rules, fps=fps, duration_s=duration_s)
    glue = "" if rules.cjk else " "
    for index, (text, *_) in enumerate(lines):
        said = glue.join(line for cue in cues if cue.line_index == index for line in cue.lines)
        assert said == text
