"""Subtitle files: SRT, WebVTT and ASS through pysubs2; ASS styled for 9:16 phones.

The ASS style keeps text inside the platform safe zone: TikTok, Reels and Shorts cover
the bottom ~20 % of a 9:16 frame with the caption, sound and account name, the right
edge with a column of buttons, and the top with tabs. The font size is the largest that
fits a full line of the rules' ``max_chars`` inside that zone (capped at a comfortable
phone size), so a setting that widens lines shrinks the text instead of spilling it.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pysubs2
from pysubs2.exceptions import Pysubs2Error

from hookline.errors import InvalidInput
from localization.rules import CHINESE, JAPANESE, KOREAN, LATIN, THAI, SubtitleRules, rules_for
from localization.segmentation import Cue

FORMATS = ("srt", "vtt", "ass")
VERTICAL_SIZE = (1080, 1920)
# Formatting tags of SRT and WebVTT; anything else in angle brackets is text.
_TAGS = re.compile(r"</?(?:i|b|u|s|c|v|lang|ruby|rt|font)(?:[.\s][^>]*)?>", re.IGNORECASE)


@dataclass(frozen=True)
class SafeZone:
    """Margins no text may enter, as fractions of the frame's width and height."""

    left: float
    top: float
    right: float
    bottom: float

    def box(self, video_size: tuple[int, int]) -> tuple[float, float, float, float]:
        """Return the zone as (left, top, right, bottom) pixels of a frame."""
        width, height = video_size
        return (
            self.left * width,
            self.top * height,
            width - self.right * width,
            height - self.bottom * height,
        )


# 9:16: the platforms' buttons take ~12-14 % of the width on the right, caption and
# account name the bottom 20 %, tabs and search the top 10 %.
PLATFORM_SAFE_ZONE = SafeZone(left=0.06, top=0.10, right=0.14, bottom=0.20)
# Landscape cuts have no app buttons over them: the broadcast title-safe area.
TITLE_SAFE_ZONE = SafeZone(left=0.05, top=0.05, right=0.05, bottom=0.08)

FONTS = {
    LATIN: "Noto Sans",
    CHINESE: "Noto Sans CJK SC",
    JAPANESE: "Noto Sans CJK JP",
    KOREAN: "Noto Sans CJK KR",
    THAI: "Noto Sans Thai",
}
# Mean advance of one measured character, in font sizes. libass draws a font's em at
# 0.7-0.9 of the font size; bold sans mixed-case Latin averages about 0.5 em, capitals
# about 0.6 em (measured: Liberation Sans and DejaVu Sans Bold), so 0.55 covers ordinary
# text with room to spare. CJK, kana and Hangul are one em; half-width characters
# already count 0.5 in the rules' measure.
ADVANCE = {LATIN: 0.55, THAI: 0.6, CHINESE: 1.0, JAPANESE: 1.0, KOREAN: 1.0}
# Comfortable size on a phone, as a share of the frame's short side: 60 px Latin and
# 72 px CJK on a 1080 px wide frame.
FONT_SHARE = {LATIN: 60 / 1080, THAI: 64 / 1080, CHINESE: 72 / 1080, JAPANESE: 72 / 1080}
FONT_SHARE[KOREAN] = FONT_SHARE[CHINESE]
OUTLINE_SHARE = 4 / 1080  # black outline around white text, readable on any picture
SHADOW_SHARE = 2 / 1080
PADDING_SHARE = 8 / 1080  # between the text's outline and the safe zone's edge


def safe_zone(video_size: tuple[int, int]) -> SafeZone:
    """Return the zone text must stay in: the platforms' for portrait, title-safe otherwise."""
    width, height = video_size
    return PLATFORM_SAFE_ZONE if height > width else TITLE_SAFE_ZONE


def style_for(
    rules: SubtitleRules, video_size: tuple[int, int] = VERTICAL_SIZE
) -> pysubs2.SSAStyle:
    """Return the ASS style: bold sans, white on a black outline, bottom centre in the zone."""
    short = min(video_size)
    outline, shadow = round(OUTLINE_SHARE * short, 1), round(SHADOW_SHARE * short, 1)
    padding = PADDING_SHARE * short
    left, _, right, bottom = safe_zone(video_size).box(video_size)
    room = right - left - 2 * (outline + padding) - shadow
    fitting = room / (rules.max_chars * ADVANCE[rules.script])
    return pysubs2.SSAStyle(
        fontname=FONTS[rules.script],
        fontsize=math.floor(min(FONT_SHARE[rules.script] * short, fitting)),
        primarycolor=pysubs2.Color(255, 255, 255, 0),
        outlinecolor=pysubs2.Color(0, 0, 0, 0),
        backcolor=pysubs2.Color(0, 0, 0, 128),
        bold=True,
        borderstyle=1,
        outline=outline,
        shadow=shadow,
        alignment=pysubs2.Alignment.BOTTOM_CENTER,
        marginl=math.ceil(left + padding),
        marginr=math.ceil(video_size[0] - right + padding),
        marginv=math.ceil(video_size[1] - bottom + outline + shadow + padding),
    )


def text_box(
    lines: Sequence[str],
    style: pysubs2.SSAStyle,
    rules: SubtitleRules,
    video_size: tuple[int, int] = VERTICAL_SIZE,
) -> tuple[float, float, float, float]:
    """Estimate the (left, top, right, bottom) pixels a cue's lines cover when rendered."""
    width, height = video_size
    border = style.outline + style.shadow
    longest = max((rules.length(line) for line in lines), default=0.0)
    text_width = longest * ADVANCE[rules.script] * style.fontsize
    centre = (style.marginl + width - style.marginr) / 2
    bottom = height - style.marginv + border
    top = height - style.marginv - len(lines) * style.fontsize - style.outline
    return centre - text_width / 2 - style.outline, top, centre + text_width / 2 + border, bottom


def to_ssafile(
    cues: Sequence[Cue],
    *,
    language: str,
    rules: SubtitleRules | None = None,
    video_size: tuple[int, int] = VERTICAL_SIZE,
) -> pysubs2.SSAFile:
    """Return the cues as a styled ASS document for a frame of video_size pixels."""
    rules = rules or rules_for(language)
    subs = pysubs2.SSAFile()
    subs.info.update(
        {
            "Title": f"Hookline subtitles ({rules.language}, {rules.profile})",
            "PlayResX": str(video_size[0]),
            "PlayResY": str(video_size[1]),
            "WrapStyle": "2",  # lines are broken by the segmenter; never rewrap them
            "ScaledBorderAndShadow": "yes",
        }
    )
    subs.styles = {"Default": style_for(rules, video_size)}
    for cue in cues:
        event = pysubs2.SSAEvent(start=_ms(cue.start), end=_ms(cue.end), name=cue.speaker or "")
        event.plaintext = _safe_text(cue.text)
        subs.append(event)
    return subs


def dumps(
    cues: Sequence[Cue],
    fmt: str,
    *,
    language: str = "und",
    rules: SubtitleRules | None = None,
    video_size: tuple[int, int] = VERTICAL_SIZE,
) -> str:
    """Return the cues as the text of an SRT, WebVTT or ASS file."""
    fmt = _format(fmt)
    if fmt == "ass":
        subs = to_ssafile(cues, language=language, rules=rules, video_size=video_size)
        return subs.to_string("ass")
    subs = pysubs2.SSAFile()
    for cue in cues:
        event = pysubs2.SSAEvent(start=_ms(cue.start), end=_ms(cue.end), name=cue.speaker or "")
        event.plaintext = _vtt_text(cue) if fmt == "vtt" else _safe_text(cue.text)
        subs.append(event)
    return subs.to_string(fmt)


def write(
    cues: Sequence[Cue],
    path: str | Path,
    fmt: str | None = None,
    *,
    language: str = "und",
    rules: SubtitleRules | None = None,
    video_size: tuple[int, int] = VERTICAL_SIZE,
) -> Path:
    """Write the cues to path as SRT, WebVTT or ASS (from its suffix unless fmt is given)."""
    path = Path(path)
    fmt = fmt or path.suffix
    text = dumps(cues, fmt, language=language, rules=rules, video_size=video_size)
    path.write_text(text, encoding="utf-8")
    return path


def read_cues(source: str | Path, fmt: str | None = None) -> list[Cue]:
    """Read the cues of an SRT, WebVTT or ASS file (a path, or the file's text).

    Speakers come from ASS names and WebVTT voices (``<v Ann>``); each cue's
    ``line_index`` is its position in the file. Comments and drawings are skipped.
    """
    text = _source_text(source)
    try:
        subs = pysubs2.SSAFile.from_string(
            text, format_=_format(fmt) if fmt else None, keep_html_tags=True
        )
    except Pysubs2Error as error:
        raise InvalidInput(
            f"Not a subtitle file Hookline reads (SRT, WebVTT, ASS): {error}"
        ) from error
    events = [e for e in subs if not e.is_comment and not re.search(r"\\p[1-9]", e.text)]
    return [_cue(event, index, subs.format) for index, event in enumerate(events)]


def _cue(event: pysubs2.SSAEvent, index: int, fmt: str | None) -> Cue:
    """Return an event as a cue: SRT and WebVTT text loses its tags, WebVTT its entities."""
    speaker, text = event.name or None, event.plaintext
    if fmt == "vtt":
        voice = re.match(r"\s*<v(?:\.[^\s>]*)?\s+([^>]+)>", text)
        speaker = speaker or (html.unescape(voice.group(1).strip()) if voice else None)
        text = html.unescape(_TAGS.sub("", text))
    elif fmt == "srt":
        text = _TAGS.sub("", text)
    lines = tuple(line.strip() for line in text.split("\n") if line.strip())
    return Cue(event.start / 1000, event.end / 1000, lines, speaker, index)


def _source_text(source: str | Path) -> str:
    if not isinstance(source, Path) and not _names_a_file(source):
        return source
    try:
        return Path(source).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"{source} is not UTF-8 text; save it as UTF-8.") from error


def _names_a_file(text: str) -> bool:
    if "\n" in text or len(text) > 4096:
        return False
    try:
        return Path(text).is_file()
    except OSError:  # a long line of dialogue is no file name
        return False


def _format(fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    fmt = "vtt" if fmt == "webvtt" else fmt
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown subtitle format {fmt!r}; use srt, vtt or ass.")
    return fmt


def _safe_text(text: str) -> str:
    # pysubs2 reads {...} as ASS override tags and \N, \h as ASS escapes in every format.
    return text.replace("{", "(").replace("}", ")").replace("\\", "\u29f5")


def _vtt_text(cue: Cue) -> str:
    text = html.escape(_safe_text(cue.text), quote=False)
    return f"<v {html.escape(cue.speaker, quote=False)}>{text}" if cue.speaker else text


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
