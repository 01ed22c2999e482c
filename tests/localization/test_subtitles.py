import dataclasses

import numpy as np
import pysubs2
import pytest
from PIL import Image, ImageFont

from hookline import ffmpeg
from hookline.errors import InvalidInput
from localization.render import subtitles_filter
from localization.rules import rules_for
from localization.segmentation import Cue, segment
from localization.subtitles import (
    PLATFORM_SAFE_ZONE,
    TITLE_SAFE_ZONE,
    dumps,
    read_cues,
    safe_zone,
    style_for,
    text_box,
    to_ssafile,
    write,
)

EN = rules_for("en")
CUES = [
    Cue(1.0, 2.5, ("Sign the contract.",), "Lin", 0),
    Cue(2.583, 4.0, ("And you will be my wife", "for one year."), "Chen", 1),
    Cue(4.5, 5.25, ("Fine.",), None, 2),
]
STUDIO_ASS = r"""[Script Info]
ScriptType: v4.00+
PlayResX: 1080
PlayResY: 1920

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,60,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,3,0,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Comment: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,Scene 1: the office
Dialogue: 0,0:00:01.00,0:00:02.50,Default,Lin,0,0,0,,{\i1}Sign{\i0} the\Ncontract.
Dialogue: 0,0:00:03.00,0:00:04.20,Default,Chen,0,0,0,,Never.
"""  # noqa: E501


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_srt_and_vtt_round_trip_times_and_lines(fmt):
    back = read_cues(dumps(CUES, fmt))
    assert [(c.start, c.end, c.lines, c.line_index) for c in back] == [
        (c.start, c.end, c.lines, c.line_index) for c in CUES
    ]


def test_vtt_keeps_speakers_as_voices_and_escapes_markup():
    cues = [Cue(0, 1, ("Tom & Jerry <3",), "Ann")]
    text = dumps(cues, "vtt")
    assert text.startswith("WEBVTT")
    assert "<v Ann>Tom &amp; Jerry &lt;3" in text
    assert read_cues(text) == cues


def test_srt_has_no_speakers():
    assert "Lin" not in dumps(CUES, "srt")
    assert [c.speaker for c in read_cues(dumps(CUES, "srt"))] == [None, None, None]


def test_ass_round_trips_to_the_centisecond_with_speakers():
    back = read_cues(dumps(CUES, "ass", rules=EN))
    assert [c.lines for c in back] == [c.lines for c in CUES]
    assert [c.speaker for c in back] == ["Lin", "Chen", None]
    for got, sent in zip(back, CUES, strict=True):
        assert got.start == pytest.approx(sent.start, abs=0.005)
        assert got.end == pytest.approx(sent.end, abs=0.005)


@pytest.mark.parametrize("fmt", ["srt", "vtt", "ass"])
def test_pysubs2_reads_what_we_write(fmt):
    subs = pysubs2.SSAFile.from_string(dumps(CUES, fmt, rules=EN))
    assert len(subs) == 3
    assert subs[1].plaintext.endswith("And you will be my wife\nfor one year.")
    assert subs[0].start == 1000


def test_braces_and_backslashes_survive_as_text():
    cues = [Cue(0, 1, ("{whispers} C:\\new",))]
    for fmt in ("srt", "ass"):
        (back,) = read_cues(dumps(cues, fmt, rules=EN))
        assert back.lines == ("(whispers) C:\u29f5new",)


def test_chinese_round_trips():
    cues = segment(
        [("我知道你昨天晚上去了哪里，但是我不会告诉任何人。", 0, 5)], rules_for("zh"), fps=25
    )
    for fmt in ("srt", "vtt", "ass"):
        back = read_cues(dumps(cues, fmt, rules=rules_for("zh")))
        assert [c.lines for c in back] == [c.lines for c in cues]


def test_write_picks_the_format_from_the_suffix(tmp_path):
    for fmt in ("srt", "vtt", "ass"):
        path = write(CUES, tmp_path / f"ep1.{fmt}", rules=EN)
        assert read_cues(path)[1].lines == CUES[1].lines
        assert [c.lines for c in read_cues(str(path))] == [c.lines for c in CUES]
    assert read_cues(tmp_path / "ep1.vtt")[0].speaker == "Lin"


def test_an_unknown_format_is_refused():
    with pytest.raises(InvalidInput, match="srt, vtt or ass"):
        dumps(CUES, "sub")


def test_reading_something_that_is_not_subtitles_is_refused():
    with pytest.raises(InvalidInput, match="SRT, WebVTT, ASS"):
        read_cues("Just a plain sentence, not a subtitle file.")


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "ep1.srt"
    path.write_bytes("1\n00:00:01,000 --> 00:00:02,000\nAdiós\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="UTF-8"):
        read_cues(path)


def test_a_long_line_of_text_is_not_taken_for_a_file_name():
    with pytest.raises(InvalidInput, match="SRT, WebVTT, ASS"):
        read_cues("x" * 5000)


def test_a_studio_script_in_ass_reads_as_plain_lines_with_speakers():
    cues = read_cues(STUDIO_ASS)
    assert cues == [
        Cue(1.0, 2.5, ("Sign the", "contract."), "Lin", 0),
        Cue(3.0, 4.2, ("Never.",), "Chen", 1),
    ]


def test_srt_formatting_tags_go_but_angle_brackets_in_dialogue_stay():
    text = "1\n00:00:01,000 --> 00:00:02,000\n<i>Hello</i> <font color=red>there</font> 1<2\n"
    assert read_cues(text)[0].lines == ("Hello there 1<2",)


# --- the ASS style and the safe zone -------------------------------------------------------


def test_ass_is_styled_for_a_vertical_phone_frame():
    subs = to_ssafile(CUES, language="en")
    assert (subs.info["PlayResX"], subs.info["PlayResY"]) == ("1080", "1920")
    assert subs.info["WrapStyle"] == "2"
    style = subs.styles["Default"]
    assert style.bold and style.outline >= 3 and style.shadow > 0
    assert style.alignment == pysubs2.Alignment.BOTTOM_CENTER
    assert style.fontsize >= 54  # large on a phone: ~3 % of the frame's height
    assert style.marginv >= 0.20 * 1920  # above the caption, sound and account name
    assert style.marginr >= 0.14 * 1080  # clear of the like/comment/share column
    assert all(event.style == "Default" for event in subs)


@pytest.mark.parametrize(
    ("language", "font"),
    [
        ("en", "Noto Sans"),
        ("zh-Hans", "Noto Sans CJK SC"),
        ("ja", "Noto Sans CJK JP"),
        ("ko", "Noto Sans CJK KR"),
        ("th", "Noto Sans Thai"),
    ],
)
def test_each_script_gets_a_font_that_has_its_glyphs(language, font):
    assert to_ssafile([], language=language).styles["Default"].fontname == font


def test_the_safe_zone_depends_on_the_frames_shape():
    assert safe_zone((1080, 1920)) is PLATFORM_SAFE_ZONE
    assert safe_zone((1920, 1080)) is TITLE_SAFE_ZONE
    _, _, right, bottom = PLATFORM_SAFE_ZONE.box((1080, 1920))
    assert bottom <= 0.8 * 1920 and right <= 0.88 * 1080


def widest_lines(rules):
    """Lines as long as the rules allow, in the script's own characters."""
    char = {"chinese": "国", "japanese": "国", "korean": "한", "thai": "ก"}.get(rules.script, "n")
    width = rules.length(char)
    return [char * int(rules.max_chars / width)] * rules.max_lines


@pytest.mark.parametrize("size", [(1080, 1920), (720, 1280), (1920, 1080)])
@pytest.mark.parametrize("profile", ["vertical", "broadcast"])
@pytest.mark.parametrize("language", ["en", "es", "zh-Hans", "zh-Hant", "ja", "ko", "th"])
def test_the_widest_cue_the_rules_allow_stays_inside_the_safe_zone(language, profile, size):
    rules = rules_for(language, profile)
    style = style_for(rules, size)
    left, top, right, bottom = text_box(widest_lines(rules), style, rules, size)
    zone = safe_zone(size).box(size)
    assert zone[0] <= left and right <= zone[2]
    assert zone[1] <= top and bottom <= zone[3]


def test_wider_lines_from_a_setting_shrink_the_font_instead_of_spilling():
    rules = dataclasses.replace(EN, max_chars=40)
    style = style_for(rules)
    assert style.fontsize < style_for(EN).fontsize
    left, _, right, _ = text_box(widest_lines(rules), style, rules)
    zone = PLATFORM_SAFE_ZONE.box((1080, 1920))
    assert zone[0] <= left and right <= zone[2]


def test_a_rendered_cue_lands_inside_the_safe_zone(tmp_path):
    """Draw the widest realistic cue with libass and find its pixels on a grey frame."""
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / "Aileron-Regular.otf").write_bytes(ImageFont.load_default(size=20).font_bytes)
    lines = ("WHY DID YOU LIE TO ME, MA?", "I trusted you with my life")
    assert all(len(line) <= EN.max_chars for line in lines)
    subs = to_ssafile([Cue(0, 1, lines)], language="en")
    subs.styles["Default"].fontname = "Aileron"
    ass = tmp_path / "cue.ass"
    ass.write_text(subs.to_string("ass"), encoding="utf-8")
    frame = tmp_path / "frame.png"
    grey = ["-f", "lavfi", "-i", "color=c=0x808080:s=1080x1920:d=1:r=25"]
    ffmpeg.run([*grey, "-vf", subtitles_filter(ass, fonts), "-frames:v", "1", frame])
    pixels = np.asarray(Image.open(frame).convert("L")).astype(int)
    rows, columns = np.nonzero(np.abs(pixels - 128) > 40)
    assert rows.size > 0, "libass drew nothing"
    left, top, right, bottom = PLATFORM_SAFE_ZONE.box((1080, 1920))
    assert left <= columns.min() and columns.max() <= right
    assert top <= rows.min() and rows.max() <= bottom
