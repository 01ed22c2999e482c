"""Cut dialogue into subtitle cues that meet a language's rules.

Each dialogue line is cut by its own language's rules (a translation gets as many cues
as it needs, not as many as the source had): first into cues at the best places
(sentences, then clauses, then grammar-aware word breaks), then each cue into balanced
lines. Cues are timed at the speakers' word times when they are known, otherwise in
proportion to their length. ``segment`` then fixes the timing of the whole track on the
episode's frame grid: gaps, minimum and maximum durations, reading speed.

What the speech itself forces (a 0.3 s line with no free time around it, a word longer
than a line) is left as it is, for QC to report: never hidden by overlapping cues.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise

from hookline.errors import InvalidInput
from localization.breakpoints import SENTENCE, normalize_space, penalties, tokens
from localization.rules import SubtitleRules, frames
from localization.speech import Utterance, Word

# Costs the cut minimizes; break penalties (breakpoints.py) run from 0 to 1000.
OVERFLOW = 10_000.0  # per character past the line limit
CUE = 8.0  # each cue: fewer, fuller cues unless something better is bought
EXTRA_LINE = 40.0  # each line past the profile's preferred count (vertical prefers one)
CUE_BREAK_WEIGHT = 4.0  # a break between cues hurts more than one between lines
BALANCE = 6.0  # lines of one cue differ in length by a whole line limit
TOP_HEAVY = 2.0  # and the top line is the longer one (a bottom-heavy pyramid reads better)
SLACK = 6.0  # a cue filled with nothing (keeps cues of one line similar in size)
SHORT = 40.0  # a cue with no time at all (scaled by how far below the minimum it falls)
FAST = 100.0  # a cue read twice as fast as the limit (scaled by how far above it is)
LONG = 30.0  # a cue of several words that would outlast the maximum duration
ASSUMED_FPS = 24.0  # cutting one line knows no frame rate; the slowest common one is safe
DANGLING = 15.0  # a cue holding a sentence's end and a part of another sentence

Dialogue = Sequence[Utterance] | Sequence[tuple]


@dataclass(frozen=True)
class Cue:
    """One subtitle event: lines shown together from start to end (seconds)."""

    start: float
    end: float
    lines: tuple[str, ...]
    speaker: str | None = None
    line_index: int = 0

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def duration(self) -> float:
        return self.end - self.start

    def cps(self, rules: SubtitleRules) -> float:
        """Return the reading speed in characters per second, measured by the rules."""
        return _length(self, rules) / self.duration if self.duration > 0 else math.inf


def break_lines(text: str, rules: SubtitleRules) -> tuple[str, ...]:
    """Split one cue's text into at most ``max_lines`` balanced lines within the limit.

    Text too long for one cue overflows its lines; ``cues_for_line`` cuts it into cues.
    """
    units = _Text.of(text, rules)
    if not units.units:
        return ()
    _, cuts, _ = _layout(units, 0, len(units.units), rules)
    return units.lines(0, cuts, len(units.units))


def dialogue_cue(lines_by_speaker: Sequence[str], rules: SubtitleRules) -> tuple[str, ...]:
    """Return the lines of a cue shared by two speakers, each opened by a dialogue dash."""
    if not 2 <= len(lines_by_speaker) <= rules.max_lines:
        raise InvalidInput(
            f"A dialogue cue holds 2 to {rules.max_lines} speakers' lines, "
            f"not {len(lines_by_speaker)}."
        )
    return tuple(f"{rules.dialogue_dash}{normalize_space(t, rules)}" for t in lines_by_speaker)


def cues_for_line(
    text: str,
    start: float,
    end: float,
    rules: SubtitleRules,
    *,
    words: Sequence[Word] | None = None,
    speaker: str | None = None,
    line_index: int = 0,
) -> list[Cue]:
    """Cut one dialogue line into as many cues as its rules need, timed within [start, end]."""
    if end < start:
        raise InvalidInput(f"Line {line_index + 1} ends ({end:.3f} s) before it starts.")
    units = _Text.of(text, rules)
    if not units.units:
        return []
    clock = _Clock.of(units, start, end, words or (), rules)
    chunks = _chunks(units, clock, rules)
    spans = clock.spans([(i, j) for i, j, _ in chunks], units, rules)
    return [
        Cue(t0, min(t1, t0 + rules.max_duration), units.lines(i, cuts, j), speaker, line_index)
        for (i, j, cuts), (t0, t1) in zip(chunks, spans, strict=True)
    ]


def segment(
    lines: Dialogue,
    rules: SubtitleRules,
    *,
    fps: float,
    duration_s: float | None = None,
) -> list[Cue]:
    """Cut a whole track of dialogue lines into cues and fix the track's timing."""
    cues: list[Cue] = []
    for index, (text, start, end, speaker, words) in enumerate(_dialogue(lines)):
        cues += cues_for_line(
            text, start, end, rules, words=words, speaker=speaker, line_index=index
        )
    return retime(cues, rules, fps=fps, duration_s=duration_s)


def retime(
    cues: Sequence[Cue],
    rules: SubtitleRules,
    *,
    fps: float,
    duration_s: float | None = None,
) -> list[Cue]:
    """Return the cues in order of start, their timing fixed on the episode's frame grid.

    In order: keep cues inside the episode and under the maximum duration; separate
    consecutive cues by the minimum gap (trimming the earlier one, down to its minimum
    duration; then delaying the later one); extend ends into free time for the minimum
    duration and the reading speed; close gaps under ``close_gap_s`` to the minimum gap.
    """
    if fps <= 0:
        raise InvalidInput("The frame rate must be positive.")
    cues = sorted(cues, key=lambda cue: cue.start)
    last = None if duration_s is None else math.floor(duration_s * fps + 1e-6)
    track = _Track.of(cues, rules, fps, last)
    track.cap()
    track.separate()
    track.extend()
    track.close_gaps()
    return track.cues(cues)


def _dialogue(lines: Dialogue) -> Iterator[tuple[str, float, float, str | None, tuple]]:
    """Yield (text, start, end, speaker, words) from utterances or plain tuples."""
    for line in lines:
        if isinstance(line, Utterance):
            yield line.text, line.start, line.end, line.speaker, line.words
        else:
            text, start, end, *rest = line
            yield text, start, end, (rest[0] if rest else None), ()


@dataclass(frozen=True)
class _Text:
    """A dialogue line as units to break between, with their measured lengths."""

    units: list[str]
    breaks: list[float]  # cost of breaking before each unit
    sums: list[float]  # length of units[:k], trailing spaces included
    trails: list[float]  # length of each unit's trailing space

    @classmethod
    def of(cls, text: str, rules: SubtitleRules) -> _Text:
        units = tokens(text, rules)
        sums = [0.0]
        for unit in units:
            sums.append(sums[-1] + rules.length(unit))
        trails = [rules.length(unit) - rules.length(unit.rstrip()) for unit in units]
        return cls(units, penalties(units, rules), sums, trails)

    def length(self, i: int, j: int) -> float:
        """Return the measured length of units i..j as one line."""
        return self.sums[j] - self.sums[i] - self.trails[j - 1]

    def lines(self, i: int, cuts: Sequence[int], j: int) -> tuple[str, ...]:
        bounds = (i, *cuts, j)
        return tuple("".join(self.units[a:b]).strip() for a, b in pairwise(bounds))


def _layout(text: _Text, i: int, j: int, rules: SubtitleRules) -> tuple[float, tuple, float]:
    """Return the cost, inner cuts and avoidable overflow of the best lines for units i..j.

    One line whenever the text fits on it; otherwise the cheapest of the layouts in up to
    ``max_lines`` lines. Overflow is avoidable when a line of several units is too long.
    """
    best = _lines_cost(text, (i, j), rules)
    if best[2] == 0:
        return best
    for count in range(2, min(rules.max_lines, j - i) + 1):
        for cuts in combinations(range(i + 1, j), count - 1):
            candidate = _lines_cost(text, (i, *cuts, j), rules)
            if candidate[0] < best[0]:
                best = candidate
    return best


def _lines_cost(text: _Text, bounds: tuple[int, ...], rules: SubtitleRules) -> tuple:
    spans = list(pairwise(bounds))
    lengths = [text.length(a, b) for a, b in spans]
    over = [max(0.0, length - rules.max_chars) for length in lengths]
    avoidable = sum(o for o, (a, b) in zip(over, spans, strict=True) if b - a > 1)
    cost = OVERFLOW * sum(over) + sum(text.breaks[cut] for cut in bounds[1:-1])
    cost += EXTRA_LINE * max(0, len(lengths) - rules.preferred_lines)
    if len(lengths) > 1:
        cost += BALANCE * (max(lengths) - min(lengths)) / rules.max_chars
        cost += TOP_HEAVY * max(0.0, lengths[0] - lengths[-1]) / rules.max_chars
    return cost, bounds[1:-1], avoidable


def _chunks(text: _Text, clock: _Clock, rules: SubtitleRules) -> list[tuple[int, int, tuple]]:
    """Return the cheapest cut of the units into cues: (first, end, line cuts) each."""
    count = len(text.units)
    best = [0.0] + [math.inf] * count
    choice: list[tuple[int, tuple]] = [(0, ())] * (count + 1)
    for i in range(count):
        for j in range(i + 1, count + 1):
            cost, cuts, avoidable = _layout(text, i, j, rules)
            if avoidable > 0 and j > i + 1:
                break  # adding units never makes lines that overflow fit again
            cost += CUE + clock.cost(i, j, text.length(i, j), rules) + _slack(text, i, j, rules)
            cost += CUE_BREAK_WEIGHT * text.breaks[i] if i else 0.0
            cost += DANGLING if _dangles(text, i, j) else 0.0
            if best[i] + cost < best[j]:
                best[j], choice[j] = best[i] + cost, (i, cuts)
    chunks = []
    j = count
    while j > 0:
        i, cuts = choice[j]
        chunks.append((i, j, cuts))
        j = i
    return chunks[::-1]


def _dangles(text: _Text, i: int, j: int) -> bool:
    """Whether units i..j hold a sentence's end and only a part of another sentence."""
    ends_inside = any(text.breaks[k] == SENTENCE for k in range(i + 1, j))
    return ends_inside and not _whole_sentences(text, i, j)


def _whole_sentences(text: _Text, i: int, j: int) -> bool:
    starts = i == 0 or text.breaks[i] == SENTENCE
    return starts and (j == len(text.units) or text.breaks[j] == SENTENCE)


def _slack(text: _Text, i: int, j: int, rules: SubtitleRules) -> float:
    """Return the cost of a cue's unused room, unless its sentences decide its size."""
    if _whole_sentences(text, i, j):
        return 0.0
    room = rules.preferred_lines * rules.max_chars
    return SLACK * max(0.0, 1 - text.length(i, j) / room) ** 2


@dataclass(frozen=True)
class _Clock:
    """When each unit of a line starts being said; word end times when words are known."""

    at: list[float]  # at[k]: when unit k starts; at[-1]: the line's end
    word_ends: list[float] | None  # when the word holding each unit's last letter ends
    spare: float = 0.0  # time the line has beyond reading it at the maximum speed

    @classmethod
    def of(
        cls, text: _Text, start: float, end: float, words: Sequence[Word], rules: SubtitleRules
    ) -> _Clock:
        timed = _word_clock(text.units, start, end, words)
        if timed is not None:
            return timed
        total = text.sums[-1] or 1.0
        at = [start + (end - start) * part / total for part in text.sums]
        # Shared in proportion, a short cue can take this spare time from the others.
        return cls(at, None, max(0.0, end - start - total / rules.max_cps))

    def cost(self, i: int, j: int, length: float, rules: SubtitleRules) -> float:
        time = self.at[j] - self.at[i]
        if j < len(self.at) - 1:
            time -= rules.min_gap_frames / ASSUMED_FPS  # the gap before the next cue
        cost = SHORT * max(0.0, 1 - (time + self.spare) / rules.min_duration)
        cost += FAST * max(0.0, length / max(time, 1e-3) / rules.max_cps - 1)
        return cost + (LONG if j - i > 1 and time > rules.max_duration else 0.0)

    def spans(
        self, chunks: list[tuple[int, int]], text: _Text, rules: SubtitleRules
    ) -> list[tuple[float, float]]:
        """Return each cue's (start, end): at word times, or shared in proportion to length."""
        start, end = self.at[0], self.at[-1]
        if self.word_ends is None:
            weights = [text.sums[j] - text.sums[i] for i, j in chunks]
            times = _cumulative(start, _spread(weights, end - start, rules.min_duration))
            return list(pairwise(times))
        spans = []
        for i, j in chunks:
            t0, following = self.at[i], self.at[j]
            needed = max(rules.min_duration, text.length(i, j) / rules.max_cps)
            t1 = end if j == len(text.units) else max(self.word_ends[j - 1], t0 + needed)
            spans.append((t0, max(t0, min(t1, following))))
        return spans


def _word_clock(units: list[str], start: float, end: float, words: Sequence[Word]) -> _Clock | None:
    """Map units to the words said, by counting letters and digits in both (None if none)."""
    before = [0]
    for unit in units:
        before.append(before[-1] + sum(char.isalnum() for char in unit))
    offsets = [0]
    for word in words:
        offsets.append(offsets[-1] + sum(char.isalnum() for char in word.text))
    letters, said = before[-1], offsets[-1]
    if not letters or not said or end <= start:
        return None

    def word_at(position: int) -> Word:
        scaled = position if letters == said else position * said // letters
        return words[bisect.bisect_right(offsets, min(scaled, said - 1)) - 1]

    at = [start]
    for position in before[1:-1]:
        moment = word_at(position).start if position < letters else end
        at.append(min(end, max(at[-1], moment)))
    at.append(end)
    ends = [min(end, word_at(max(0, last - 1)).end) for last in before[1:]]
    return _Clock(at, ends)


def _length(cue: Cue, rules: SubtitleRules) -> float:
    return sum(rules.length(line) for line in cue.lines)


def _spread(weights: list[float], total: float, minimum: float) -> list[float]:
    """Share total in proportion to weights, giving none less than minimum when total allows."""
    if total < minimum * len(weights):
        return [total * w / (sum(weights) or 1.0) for w in weights]
    floored: set[int] = set()
    while True:
        free = total - minimum * len(floored)
        weight = sum(w for k, w in enumerate(weights) if k not in floored) or 1.0
        shares = [minimum if k in floored else free * w / weight for k, w in enumerate(weights)]
        short = {k for k, share in enumerate(shares) if share < minimum and k not in floored}
        if not short:
            return shares
        floored |= short


def _cumulative(start: float, durations: Iterable[float]) -> list[float]:
    times = [start]
    for duration in durations:
        times.append(times[-1] + duration)
    return times


@dataclass
class _Track:
    """A track's cue times in whole frames, fixed in place by ``retime``."""

    starts: list[int]
    ends: list[int]
    reading: list[int]  # frames each cue needs to be read at the maximum speed
    rules: SubtitleRules
    fps: float
    last: int | None  # the episode's last frame, when known

    @classmethod
    def of(cls, cues: Sequence[Cue], rules: SubtitleRules, fps: float, last: int | None) -> _Track:
        starts = [frames(cue.start, fps) for cue in cues]
        ends = [frames(cue.end, fps) for cue in cues]
        reading = [math.ceil(_length(cue, rules) / rules.max_cps * fps - 1e-6) for cue in cues]
        track = cls(starts, ends, reading, rules, fps, last)
        track.keep_inside()
        return track

    def keep_inside(self) -> None:
        """Give every cue at least one frame, inside the episode."""
        final = math.inf if self.last is None else self.last
        for k, start in enumerate(self.starts):
            self.starts[k] = int(max(0, min(start, final - 1)))
            self.ends[k] = int(min(max(self.ends[k], self.starts[k] + 1), final))

    @property
    def gap(self) -> int:
        return self.rules.min_gap_frames

    @property
    def longest(self) -> int:
        return self.rules.max_duration_frames(self.fps)

    def cap(self) -> None:
        self.ends = [min(e, s + self.longest) for s, e in zip(self.starts, self.ends, strict=True)]

    def separate(self) -> None:
        """Give consecutive cues the minimum gap: trim the earlier, then delay the later."""
        s, e, shortest = self.starts, self.ends, self.rules.min_duration_frames(self.fps)
        for k in range(1, len(s)):
            keep = s[k - 1] + min(shortest, max(1, e[k - 1] - s[k - 1] - self.gap))
            e[k - 1] = min(e[k - 1], max(s[k] - self.gap, keep))
            s[k] = max(s[k], e[k - 1] + self.gap)
            e[k] = max(e[k], s[k] + 1)
        if self.last is None:
            return
        # Delayed cues may now run past the episode's end: pull the last ones back.
        for k in reversed(range(len(s))):
            e[k] = min(e[k], self.last if k == len(s) - 1 else s[k + 1] - self.gap)
            s[k] = max(0, min(s[k], e[k] - 1))

    def extend(self) -> None:
        """Lengthen cues into free time up to the minimum duration and the reading time."""
        shortest = self.rules.min_duration_frames(self.fps)
        for k, s in enumerate(self.starts):
            want = s + max(shortest, self.reading[k])
            self.ends[k] = max(self.ends[k], min(want, self.room(k)))

    def close_gaps(self) -> None:
        """Close gaps under ``close_gap_s`` to the minimum gap by extending the earlier cue."""
        for k in range(len(self.starts) - 1):
            if self.rules.closes_gap(self.starts[k + 1] - self.ends[k], self.fps):
                self.ends[k] = max(self.ends[k], self.room(k))

    def room(self, k: int) -> int:
        """Return the latest frame cue k may end on: before the next cue, in the episode."""
        room = self.starts[k] + self.longest
        if k + 1 < len(self.starts):
            room = min(room, self.starts[k + 1] - self.gap)
        return room if self.last is None else min(room, self.last)

    def cues(self, cues: Sequence[Cue]) -> list[Cue]:
        return [
            Cue(round(s / self.fps, 3), round(e / self.fps, 3), c.lines, c.speaker, c.line_index)
            for s, e, c in zip(self.starts, self.ends, cues, strict=True)
        ]
