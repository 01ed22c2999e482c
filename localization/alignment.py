"""Script first: align the studio's script to the audio and keep the script's exact text.

AI-drama studios hold the script. Its lines are matched to Whisper's words with a
global sequence alignment (Needleman-Wunsch over normalized tokens, fuzzy enough for
"300" against "three hundred" to cost little), and each line takes the times of
the words it matched. Lines the audio never matched get times between their
neighbours and a note; a script that matches too little of the audio is refused.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from localization.errors import LocalizationError
from localization.speech import Utterance, Word

SPEAKER_PREFIX = re.compile(r"^\s*([^\W\d_][\w .'-]{0,40}?)\s*:\s+(.+)$", re.UNICODE)
# Below this share of script words found in the audio, the script is for other audio.
MIN_MATCH_RATIO = 0.4
MATCH, MISMATCH, GAP = 2.0, -1.0, -0.6
FUZZY = 0.75  # tokens at least this similar count as a match ("memorized" ~ "memorised")


class ScriptMismatch(LocalizationError):
    """The script and the audio are not the same dialogue."""

    status = 422


@dataclass(frozen=True)
class ScriptLine:
    text: str
    speaker: str | None = None
    start: float | None = None  # subtitle scripts bring rough times; plain text does not
    end: float | None = None


@dataclass(frozen=True)
class AlignedLine:
    utterance: Utterance
    matched: float  # share of the line's words found in the audio
    estimated: bool  # timing interpolated: no word of the line was heard
    # The line's first (last) word was not clearly heard: its speech may start earlier (end
    # later) than the words found say.
    open_start: bool = False
    open_end: bool = False


def parse_plain_script(text: str) -> list[ScriptLine]:
    """Read a plain script: one utterance per line, with an optional ``NAME:`` prefix."""
    lines = []
    for raw in text.splitlines():
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        match = SPEAKER_PREFIX.match(raw)
        if match and len(match.group(1).split()) <= 3:
            lines.append(ScriptLine(match.group(2).strip(), speaker=match.group(1).strip()))
        else:
            lines.append(ScriptLine(raw))
    return lines


def align(
    script: Sequence[ScriptLine], words: Sequence[Word], *, duration_s: float
) -> list[AlignedLine]:
    """Give every script line the times of the words it matches; keep the script's text."""
    if not script:
        raise ScriptMismatch("The script has no lines. Give one utterance per line.")
    tokens = [(i, t) for i, line in enumerate(script) for t in tokenize(line.text)]
    heard = [normalize(w.text) for w in words]
    pairs = _align_tokens([t for _, t in tokens], heard)
    # Substitutions place a line as well as matches do: "Sign" heard as "I'm" still marks
    # where the line starts. Only true matches count towards the script matching the audio.
    matched_words: dict[int, list[int]] = {}
    exact: set[int] = set()
    for token_index, word_index, same in pairs:
        matched_words.setdefault(tokens[token_index][0], []).append(word_index)
        if same:
            exact.add(word_index)
    ratio = len(exact) / max(1, len(tokens))
    if ratio < MIN_MATCH_RATIO:
        raise ScriptMismatch(
            f"Only {ratio:.0%} of the script's words were heard in the audio (at least "
            f"{MIN_MATCH_RATIO:.0%} is needed): this script seems to belong to another episode "
            "or cut. Check the file, or localize without a script to use plain transcription."
        )
    heard_tokens = {token_index for token_index, _, same in pairs if same}
    return _timed_lines(script, words, tokens, matched_words, exact, heard_tokens, duration_s)


def _timed_lines(
    script: Sequence[ScriptLine],
    words: Sequence[Word],
    tokens: Sequence[tuple[int, str]],
    matched: dict[int, list[int]],
    exact: set[int],
    heard_tokens: set[int],
    duration_s: float,
) -> list[AlignedLine]:
    ranges = _settle_boundaries(
        {i: (min(hits), max(hits)) for i, hits in matched.items() if hits}, words, exact
    )
    spans: list[tuple[float, float] | None] = [
        (words[ranges[i][0]].start, words[ranges[i][1]].end) if i in ranges else None
        for i in range(len(script))
    ]
    filled = _interpolate(script, spans, duration_s)
    counts = {i: sum(1 for line, _ in tokens if line == i) for i in range(len(script))}
    out = []
    for index, line in enumerate(script):
        start, end = filled[index]
        span_words = tuple(words[i] for i in sorted(matched.get(index, [])))
        utterance = Utterance(start, end, line.text, speaker=line.speaker, words=span_words)
        share = min(1.0, len(matched.get(index, [])) / max(1, counts[index]))
        own = [t for t, (line, _) in enumerate(tokens) if line == index]
        out.append(
            AlignedLine(
                utterance,
                matched=share,
                estimated=spans[index] is None,
                open_start=bool(own) and own[0] not in heard_tokens,
                open_end=bool(own) and own[-1] not in heard_tokens,
            )
        )
    return out


def _settle_boundaries(
    ranges: dict[int, tuple[int, int]], words: Sequence[Word], exact: set[int]
) -> dict[int, tuple[int, int]]:
    """Move each boundary between two lines to the longest pause among its uncertain words.

    A misheard word at a line's edge can drift to the wrong side in the alignment
    ("...otherwise." heard as "...the wine.", and "the" taken for the next line's "Then").
    Between the last word the left line surely said and the first the right line surely
    said, the turn most likely changed at the longest pause.
    """
    settled = dict(ranges)
    ordered = sorted(settled)
    for left, right in itertools.pairwise(ordered):
        first_l, last_l = settled[left]
        first_r, last_r = settled[right]
        sure_l = max((i for i in range(first_l, last_l + 1) if i in exact), default=first_l)
        sure_r = min((i for i in range(first_r, last_r + 1) if i in exact), default=last_r)
        low, high = sure_l, sure_r - 1
        if low > high:
            continue
        best = max(range(low, high + 1), key=lambda k: words[k + 1].start - words[k].end)
        settled[left], settled[right] = (first_l, best), (best + 1, last_r)
    return settled


def _interpolate(
    script: Sequence[ScriptLine], spans: list[tuple[float, float] | None], duration_s: float
) -> list[tuple[float, float]]:
    """Fill lines without heard words: their own rough times, else between neighbours."""
    filled: list[tuple[float, float]] = []
    index = 0
    while index < len(spans):
        if spans[index] is not None:
            filled.append(spans[index])  # type: ignore[arg-type]
            index += 1
            continue
        run_end = index
        while run_end < len(spans) and spans[run_end] is None:
            run_end += 1
        left = filled[-1][1] if filled else 0.0
        right = spans[run_end][0] if run_end < len(spans) else duration_s  # type: ignore[index]
        filled += _share_gap(script[index:run_end], left, right)
        index = run_end
    return filled


def _share_gap(lines: Sequence[ScriptLine], left: float, right: float) -> list[tuple[float, float]]:
    if all(line.start is not None and line.end is not None for line in lines):
        return [(max(left, line.start), min(right, line.end)) for line in lines]  # type: ignore[type-var]
    weights = [max(1, len(line.text)) for line in lines]
    total, cursor, out = sum(weights), left, []
    for weight in weights:
        width = (right - left) * weight / total
        out.append((cursor, cursor + width))
        cursor += width
    return out


def _align_tokens(script: Sequence[str], heard: Sequence[str]) -> list[tuple[int, int, bool]]:
    """Return (script token, heard word, same word) for the diagonal steps of a best alignment."""
    rows, cols = len(script), len(heard)
    score = [[0.0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        score[i][0] = i * GAP
    for j in range(1, cols + 1):
        score[0][j] = j * GAP
    similar = _similarity_table(script, heard)
    for i in range(1, rows + 1):
        row, above = score[i], score[i - 1]
        for j in range(1, cols + 1):
            pair = MATCH if similar[i - 1][j - 1] else MISMATCH
            row[j] = max(above[j - 1] + pair, above[j] + GAP, row[j - 1] + GAP)
    return _trace(score, similar)


def _trace(score: list[list[float]], similar: list[list[bool]]) -> list[tuple[int, int, bool]]:
    i, j, pairs = len(score) - 1, len(score[0]) - 1, []
    while i > 0 and j > 0:
        same = similar[i - 1][j - 1]
        if score[i][j] == score[i - 1][j - 1] + (MATCH if same else MISMATCH):
            pairs.append((i - 1, j - 1, same))
            i, j = i - 1, j - 1
        elif score[i][j] == score[i - 1][j] + GAP:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def _similarity_table(script: Sequence[str], heard: Sequence[str]) -> list[list[bool]]:
    cache: dict[tuple[str, str], bool] = {}
    table = []
    for a in script:
        row = []
        for b in heard:
            key = (a, b)
            if key not in cache:
                cache[key] = a == b or _alike(a, b)
            row.append(cache[key])
        table.append(row)
    return table


def _alike(a: str, b: str) -> bool:
    # Short words must match exactly ("the" is not "then"); the cheap tests come first.
    if min(len(a), len(b)) <= 4 or abs(len(a) - len(b)) > 3 or a[0] != b[0]:
        return False
    return SequenceMatcher(None, a, b).ratio() >= FUZZY


def tokenize(text: str) -> list[str]:
    """Split text into comparable tokens; CJK text into characters."""
    tokens = []
    for chunk in text.split():
        chunk = normalize(chunk)
        if not chunk:
            continue
        if any(_is_cjk(c) for c in chunk):
            tokens += [c for c in chunk if c.strip()]
        else:
            tokens.append(chunk)
    return tokens


def normalize(word: str) -> str:
    """Lower-case, strip accents and punctuation: "¿Página" and "pagina" compare equal."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in kept if c.isalnum())


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x3040 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF
