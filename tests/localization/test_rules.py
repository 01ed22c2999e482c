import dataclasses

import pytest

from hookline.errors import InvalidInput
from localization.errors import UnsupportedLanguage
from localization.rules import frames, normalize_language, rules_for

# Netflix's adult numbers (shared/localization.md): max characters per line, max CPS.
BROADCAST = [
    ("zh-Hans", 16, 9),
    ("zh-Hant", 16, 9),
    ("ja", 13, 4),
    ("ko", 16, 12),
    ("en", 42, 20),
    ("es", 42, 17),
    ("pt-BR", 42, 17),
    ("pt", 42, 17),
    ("id", 42, 17),
    ("th", 35, 17),
    ("fr", 42, 17),
    ("de", 42, 17),
    ("it", 42, 17),
    ("ca", 42, 17),
    ("nl", 42, 17),
    ("sw", 42, 17),
]
VERTICAL = [
    ("zh-Hans", 12, 11),
    ("zh-Hant", 12, 11),
    ("ja", 12, 5),
    ("ko", 12, 14),
    ("en", 26, 22),
    ("es", 26, 20),
    ("pt-BR", 26, 20),
    ("id", 26, 20),
    ("th", 22, 20),
    ("fr", 26, 20),
    ("de", 26, 20),
    ("it", 26, 20),
    ("ca", 26, 20),
    ("nl", 26, 20),
]


@pytest.mark.parametrize(("language", "chars", "cps"), BROADCAST)
def test_broadcast_profile_carries_netflix_line_length_and_reading_speed(language, chars, cps):
    rules = rules_for(language, "broadcast")
    assert (rules.max_chars, rules.max_cps) == (chars, cps)
    assert (rules.max_lines, rules.preferred_lines) == (2, 2)


@pytest.mark.parametrize(("language", "chars", "cps"), VERTICAL)
def test_vertical_profile_has_narrower_lines_and_faster_reading(language, chars, cps):
    rules = rules_for(language)
    broadcast = rules_for(language, "broadcast")
    assert (rules.max_chars, rules.max_cps) == (chars, cps)
    assert rules.max_chars < broadcast.max_chars
    assert rules.max_cps > broadcast.max_cps
    assert (rules.max_lines, rules.preferred_lines) == (2, 1)
    assert rules.profile == "vertical"


@pytest.mark.parametrize("profile", ["vertical", "broadcast"])
@pytest.mark.parametrize(("language", "shortest"), [("en", 5 / 6), ("zh", 5 / 6), ("ja", 0.5)])
def test_both_profiles_share_netflix_timing(profile, language, shortest):
    rules = rules_for(language, profile)
    assert rules.min_duration == pytest.approx(shortest)
    assert rules.max_duration == 7.0
    assert rules.min_gap_frames == 2
    assert rules.close_gap_s == 0.5


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("en", "en"),
        ("EN-us", "en-US"),
        ("pt_br", "pt-BR"),
        ("zh", "zh-Hans"),
        ("zh-CN", "zh-Hans-CN"),
        ("ZH_cn", "zh-Hans-CN"),
        ("zh-SG", "zh-Hans-SG"),
        ("zh-TW", "zh-Hant-TW"),
        ("zh-hk", "zh-Hant-HK"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("zh-Hans", "zh-Hans"),
        (" ja ", "ja"),
        ("sr-latn-rs", "sr-Latn-RS"),
    ],
)
def test_language_tags_are_normalized(given, normalized):
    assert normalize_language(given) == normalized
    assert rules_for(given).language == normalized


@pytest.mark.parametrize(("alias", "canonical"), [("zh-CN", "zh-Hans-CN"), ("zh-TW", "zh-Hant-TW")])
def test_chinese_aliases_get_the_rules_of_their_script(alias, canonical):
    for profile in ("vertical", "broadcast"):
        got, want = rules_for(alias, profile), rules_for(canonical, profile)
        assert dataclasses.replace(got, language=canonical) == want


def test_a_region_does_not_change_the_numbers():
    assert rules_for("en-GB").max_cps == rules_for("en").max_cps == 22
    assert rules_for("es-MX", "broadcast").max_chars == 42


@pytest.mark.parametrize("tag", ["", "e", "english!", "en--US", "12", "en_US_🙂"])
def test_a_malformed_language_tag_is_refused_with_a_hint(tag):
    with pytest.raises(UnsupportedLanguage, match="BCP-47"):
        rules_for(tag)


def test_an_unknown_profile_is_refused():
    with pytest.raises(InvalidInput, match="vertical or broadcast"):
        rules_for("en", "cinema")


@pytest.mark.parametrize(
    ("language", "text", "length"),
    [
        ("en", "Sign it.", 8),
        ("en", "e\u0301te", 3),  # a combining accent takes no room of its own
        ("zh", "我知道。", 4),
        ("zh", "iPhone很好", 8),
        ("ja", "こんにちは", 5),
        ("ja", "ABC", 1.5),  # half-width counts 0.5
        ("ja", "ｱｲｳ", 1.5),  # half-width katakana too
        ("ja", "OKです。", 4),
        ("ja", "ＯＫ", 2),  # full-width Latin counts 1
        ("ko", "안녕하세요", 5),
        ("ko", "OK 좋아", 3.5),  # Latin letters and spaces count 0.5
        ("ko", "정말?", 2.5),  # punctuation counts 0.5
        ("th", "ที่นี่", 2),  # vowel and tone marks above or below take no room
    ],
)
def test_each_language_measures_a_line_its_own_way(language, text, length):
    assert rules_for(language).length(text) == length


def test_line_breaks_are_not_counted():
    assert rules_for("en").length("Hello\nthere") == 10


@pytest.mark.parametrize(("language", "cjk"), [("zh", True), ("ja", True), ("ko", False)])
def test_chinese_and_japanese_run_words_together(language, cjk):
    assert rules_for(language).cjk is cjk
    assert rules_for("en").cjk is rules_for("th").cjk is False


@pytest.mark.parametrize(
    ("fps", "shortest", "longest", "shortest_ja"),
    [(24, 20, 168, 12), (25, 21, 175, 13), (30, 25, 210, 15), (23.976, 20, 167, 12)],
)
def test_durations_in_frames_round_towards_the_rule(fps, shortest, longest, shortest_ja):
    assert rules_for("en").min_duration_frames(fps) == shortest
    assert rules_for("en").max_duration_frames(fps) == longest
    assert rules_for("ja").min_duration_frames(fps) == shortest_ja


@pytest.mark.parametrize(
    ("fps", "largest_closed"), [(24, 11), (25, 12), (30, 14), (23.976, 11), (29.97, 14)]
)
def test_gaps_over_two_frames_and_under_half_a_second_are_closed(fps, largest_closed):
    rules = rules_for("en")
    assert not rules.closes_gap(2, fps)
    assert rules.closes_gap(3, fps)
    assert rules.closes_gap(largest_closed, fps)
    assert not rules.closes_gap(largest_closed + 1, fps)


def test_frames_round_to_the_nearest_frame_with_halves_up():
    assert frames(0.5, 24) == 12
    assert frames(1 / 48, 24) == 1
    assert frames(0.083, 24) == 2  # 83 ms written by SRT for two frames
    assert frames(0.08, 24) == 2  # and 80 ms written by ASS
    assert frames(-0.1, 25) == -2


def test_a_setting_can_change_a_limit_and_bad_values_are_refused():
    wider = dataclasses.replace(rules_for("en"), max_chars=30)
    assert wider.max_chars == 30
    with pytest.raises(InvalidInput):
        dataclasses.replace(rules_for("en"), max_chars=0)
    with pytest.raises(InvalidInput):
        dataclasses.replace(rules_for("en"), preferred_lines=3)
    with pytest.raises(InvalidInput):
        dataclasses.replace(rules_for("en"), min_duration=8.0)


@pytest.mark.parametrize(
    ("language", "dash"), [("en", "-"), ("es", "- "), ("pt-BR", "-"), ("fr", "- ")]
)
def test_dialogue_dash_follows_the_language(language, dash):
    assert rules_for(language).dialogue_dash == dash
