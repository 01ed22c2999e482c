"""Translation by an LLM behind an OpenAI-compatible chat-completions API.

Works with llama.cpp's server, vLLM, Ollama, LM Studio and hosted APIs: ``POST
{base_url}/chat/completions``. Each request carries the task, the series bible
(characters with their genders, because Chinese and English drop subjects that Spanish
must inflect; glossary terms with their required translations), the lines to translate
with their speakers and character budgets, and neighbouring lines for context. The
model answers ``{"lines": [{"i": 3, "text": "..."}]}``; code fences and prose around it
are tolerated.

When a request is refused or answered with something unusable, the batch is split in
halves and retried, so that one line a model will not translate does not take its
neighbours down with it; a line refused on its own is marked for a human with the
model's words. Lines over their budget get one follow-up request for shorter versions.
Transport failures (timeout, connection refused, HTTP errors after retries) raise
TranslationFailed: nothing can be translated without the endpoint.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from localization.errors import TranslationFailed
from localization.languages import canonical, display_name, is_cjk
from localization.translation import budget
from localization.translation.base import (
    NO_BIBLE,
    Bible,
    LineRequest,
    TranslatedLine,
    Translator,
    finished_line,
    line_for_human,
)
from localization.translation.glossary import entries

log = logging.getLogger(__name__)

LINES_PER_REQUEST = 30
CONTEXT_LINES = 2
# A model that never answers with the JSON asked for would otherwise cost ~2 requests
# per line while batches are split; after this many unusable answers in a row with no
# usable one, the endpoint is taken to be the wrong kind of model.
_MAX_UNUSABLE_WITHOUT_SUCCESS = 4
# English refusals in a translation into another language ("I'm sorry, but I can't...").
_REFUSAL = re.compile(
    r"^\W*(i'?m sorry|i am sorry|sorry, (but )?i|i can(no|')t|i am unable|i'?m unable|"
    r"as an ai|i won'?t)\b",
    re.IGNORECASE,
)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


class _Retry(Retry):
    """urllib3 retries that honour Retry-After, but never wait longer than a cap."""

    MAX_RETRY_AFTER_S = 30.0

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.MAX_RETRY_AFTER_S)


@dataclass(frozen=True)
class _Item:
    text: str
    refusal: str = ""


@dataclass(frozen=True)
class _Reply:
    content: str
    refusal: str = ""  # OpenAI's message.refusal, or the content filter's verdict


@dataclass
class _Call:
    """One translate() call: its lines, language pair, bible and results so far."""

    lines: Sequence[LineRequest]
    source: str
    target: str
    bible: Bible
    results: dict[int, TranslatedLine] = field(default_factory=dict)
    usable: int = 0
    unusable: int = 0


class ChatTranslator(Translator):
    """Translate with the chat model ``model`` at ``base_url`` (e.g. http://127.0.0.1:8080/v1)."""

    name = "llm"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        *,
        timeout_s: float = 60.0,
        retries: int = 3,
        lines_per_request: int = LINES_PER_REQUEST,
        context_lines: int = CONTEXT_LINES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        self.retries = retries
        self.lines_per_request = lines_per_request
        self.context_lines = context_lines
        self.session = requests.Session()
        retry = _Retry(
            total=retries,
            connect=retries,
            read=False,  # a read timeout means the model is too slow: waiting again won't help
            status=retries,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"POST"}),  # a chat completion has no side effects
            backoff_factor=0.5,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"

    def close(self) -> None:
        self.session.close()

    def pairs(self) -> set[tuple[str, str]]:
        """Return no pairs: a chat model is not limited to installed pairs (see supports)."""
        return set()

    def supports(self, source: str, target: str) -> bool:
        return canonical(source) != canonical(target)

    def describe(self) -> str:
        return f"llm {self.model or '(default model)'} at {self.base_url} (any language pair)"

    def translate(
        self,
        lines: Sequence[LineRequest],
        *,
        source: str,
        target: str,
        bible: Bible = NO_BIBLE,
    ) -> list[TranslatedLine]:
        call = _Call(lines, canonical(source), canonical(target), bible)
        positions = list(range(len(lines)))
        for start in range(0, len(positions), self.lines_per_request):
            self._translate_group(call, positions[start : start + self.lines_per_request])
        self._revise(call)
        return [call.results[pos] for pos in positions]

    # -- first pass ---------------------------------------------------------------------

    def _translate_group(self, call: _Call, positions: list[int]) -> None:
        wanted = [p for p in positions if call.lines[p].text.strip()]
        for p in set(positions) - set(wanted):
            call.results[p] = finished_line(
                call.lines[p], "", backend=self.name, target=call.target, bible=call.bible
            )
        if not wanted:
            return
        reply = self._complete(self._translation_messages(call, wanted))
        items = self._usable_items(call, reply)
        if items is None:
            self._split_or_give_up(call, wanted, reply)
            return
        if len(wanted) == 1 and len(items) == 1:
            items = {wanted[0]: next(iter(items.values()))}  # one line: whatever "i" it got
        missing = [p for p in wanted if p not in items]
        if len(wanted) > 1 and len(missing) == len(wanted):
            self._split_or_give_up(call, wanted, reply)
            return
        for p in wanted:
            if p in items or len(wanted) == 1:
                call.results[p] = self._line_result(call, p, items.get(p))
        if len(wanted) > 1 and missing:
            # Models sometimes skip lines of a long batch; ask again for just those.
            self._translate_group(call, missing)

    def _split_or_give_up(self, call: _Call, positions: list[int], reply: _Reply) -> None:
        if len(positions) > 1:
            log.info(
                "The LLM gave no usable answer for %d lines (%s); trying them in halves",
                len(positions),
                _excerpt(reply.refusal or reply.content, 80),
            )
            middle = len(positions) // 2
            self._translate_group(call, positions[:middle])
            self._translate_group(call, positions[middle:])
            return
        [p] = positions
        call.results[p] = line_for_human(
            call.lines[p], backend=self.name, note=_unusable_note(reply)
        )

    def _line_result(self, call: _Call, p: int, item: _Item | None) -> TranslatedLine:
        line = call.lines[p]
        if item is None:
            return line_for_human(
                line, backend=self.name, note="the LLM returned nothing for this line"
            )
        if item.refusal or not item.text.strip():
            words = item.refusal or "(no reason given)"
            return line_for_human(
                line, backend=self.name, note=f"the LLM refused this line: {words}"
            )
        if _REFUSAL.match(item.text) and canonical(call.target).split("-")[0] != "en":
            return line_for_human(
                line, backend=self.name, note=f"the LLM refused this line: {item.text}"
            )
        return finished_line(
            line, item.text, backend=self.name, target=call.target, bible=call.bible
        )

    def _usable_items(self, call: _Call, reply: _Reply) -> dict[int, _Item] | None:
        items = None if reply.refusal else parse_answer(reply.content)
        if items is None:
            call.unusable += 1
            if call.usable == 0 and call.unusable >= _MAX_UNUSABLE_WITHOUT_SUCCESS:
                last = _excerpt(reply.refusal or reply.content) or "(nothing)"
                raise TranslationFailed(
                    f"the LLM {self.model!r} at {self.base_url} answered {call.unusable} "
                    f"requests without a usable translation; last answer: {last}"
                )
        else:
            call.usable += 1
        return items

    # -- second pass: lines over budget or off the glossary ----------------------------

    def _revise(self, call: _Call) -> None:
        todo = [
            p
            for p, r in sorted(call.results.items())
            if not r.needs_human and (r.over_budget or r.glossary_problems)
        ]
        for start in range(0, len(todo), self.lines_per_request):
            group = todo[start : start + self.lines_per_request]
            reply = self._complete(self._revision_messages(call, group))
            items = None if reply.refusal else parse_answer(reply.content)
            for p in group:
                call.results[p] = self._better(call, p, (items or {}).get(p))

    def _better(self, call: _Call, p: int, item: _Item | None) -> TranslatedLine:
        old = call.results[p]
        if item is not None and item.text.strip() and not item.refusal:
            new = finished_line(
                call.lines[p], item.text, backend=self.name, target=call.target, bible=call.bible
            )
            if _rank(new, call.target) < _rank(old, call.target):
                if new.over_budget:
                    note = "still over budget after asking the LLM for a shorter version"
                else:
                    note = "revised on a second request"
                return replace(new, note=note)
        if old.over_budget:
            return replace(old, note="asked the LLM for a shorter version; it gave none better")
        return replace(old, note="asked the LLM to use the bible's terms; it gave none better")

    # -- prompts ------------------------------------------------------------------------

    def _translation_messages(self, call: _Call, positions: list[int]) -> list[dict[str, str]]:
        context = self._context(call, positions)
        payload = {
            "context": [self._entry(call, p, budget=False) for p in context],
            "lines": [self._entry(call, p, budget=True) for p in positions],
        }
        return [
            {"role": "system", "content": self._system_prompt(call)},
            {"role": "user", "content": json.dumps(payload, ensure_ascii=False)},
        ]

    def _revision_messages(self, call: _Call, positions: list[int]) -> list[dict[str, str]]:
        lines = []
        for p in positions:
            result = call.results[p]
            entry = self._entry(call, p, budget=True)
            entry["translation"] = result.text
            fixes = list(result.glossary_problems)
            if result.over_budget:
                length = budget.spoken_length(result.text, call.target)
                fixes.insert(0, f"too long: {length} characters, at most {entry['max_chars']}")
            entry["fix"] = fixes
            lines.append(entry)
        ask = (
            "Some of your translations need fixing. For each entry, give a new translation "
            'that fixes the problems listed in "fix" (shorter: paraphrase and drop '
            "redundant words, keep the meaning) in the same JSON format."
        )
        return [
            {"role": "system", "content": self._system_prompt(call)},
            {
                "role": "user",
                "content": ask + "\n" + json.dumps({"lines": lines}, ensure_ascii=False),
            },
        ]

    def _context(self, call: _Call, positions: list[int]) -> list[int]:
        chosen = set(positions)
        around = {
            q
            for p in positions
            for q in range(p - self.context_lines, p + self.context_lines + 1)
            if 0 <= q < len(call.lines) and q not in chosen and call.lines[q].text.strip()
        }
        return sorted(around)

    def _entry(self, call: _Call, p: int, *, budget: bool) -> dict[str, Any]:
        line = call.lines[p]
        entry: dict[str, Any] = {"i": p}
        if line.speaker:
            entry["speaker"] = line.speaker
            character = call.bible.character(line.speaker)
            if character is not None and character.gender != "unknown":
                entry["gender"] = character.gender
        entry["text"] = line.text
        if budget and line.budget_chars is not None:
            entry["max_chars"] = line.budget_chars
        return entry

    def _system_prompt(self, call: _Call) -> str:
        source, target = display_name(call.source), display_name(call.target)
        counting = (
            "count the characters that are spoken, not spaces or punctuation"
            if is_cjk(call.target)
            else "count letters, digits, spaces and punctuation"
        )
        rules = [
            f"You translate the dialogue of a short vertical drama series from {source} "
            f"({call.source}) into {target} ({call.target}) for dubbing and subtitles.",
            "",
            "Rules:",
            '1. Translate every entry of "lines" and nothing else. "context" entries are '
            "the neighbouring lines, only there to help you understand the scene.",
            "2. Keep the meaning, tone and register of spoken dialogue: natural, not literal.",
            f'3. "max_chars" is a hard limit on the length of a translation ({counting}): '
            "the dub must fit the time the actor speaks. Paraphrase or shorten rather than "
            "exceed it.",
            "4. Use the speaker's gender, and the gender of every character mentioned, for "
            "pronouns and agreement: the source often leaves the subject out.",
            "5. Write names and glossary terms exactly as the series bible says.",
            '6. Answer with one JSON object and nothing else: {"lines": [{"i": <i>, "text": '
            '"<translation>"}]}, one entry per line, with the same "i".',
            '7. If you cannot translate a line, give {"i": <i>, "text": "", "refusal": '
            '"<why>"} for it and translate the others.',
        ]
        return "\n".join([*rules, "", *self._bible_text(call)])

    def _bible_text(self, call: _Call) -> list[str]:
        text = ["Series bible"]
        if call.bible.characters:
            text.append("Characters:")
            text += [f"- {c.name}: {c.gender}" for c in call.bible.characters]
        glossary = [e for e in entries(call.bible, call.target) if not _is_plain_name(e, call)]
        if glossary:
            text.append(f"Glossary ({display_name(call.source)} → {display_name(call.target)}):")
            for entry in glossary:
                kept = " (keep as written)" if entry.kept else ""
                text.append(f'- "{entry.source}" → "{entry.target}"{kept}')
            notes = [f"- {t.term}: {t.note}" for t in call.bible.terms if t.note]
            if notes:
                text += ["Notes:", *notes]
        if len(text) == 1:
            text.append("(none for this series)")
        return text

    # -- transport ----------------------------------------------------------------------

    def _complete(self, messages: list[dict[str, str]]) -> _Reply:
        body = {"model": self.model, "messages": messages, "temperature": 0.2}
        url = f"{self.base_url}/chat/completions"
        try:
            response = self.session.post(url, json=body, timeout=self.timeout_s)
        except requests.Timeout:
            raise TranslationFailed(
                f"the LLM endpoint at {self.base_url} did not answer within {self.timeout_s:g} s"
            ) from None
        except requests.RequestException as exc:  # refused, reset, bad URL, …
            raise TranslationFailed(
                f"could not reach the LLM endpoint at {self.base_url}: {exc}"
            ) from exc
        if response.status_code == 429:
            raise TranslationFailed(
                f"the LLM endpoint at {self.base_url} is still rate limiting (HTTP 429) after "
                f"{self.retries} retries; try again later"
            )
        if response.status_code >= 400:
            raise TranslationFailed(
                f"the LLM endpoint at {self.base_url} answered HTTP {response.status_code}: "
                f"{_excerpt(response.text)}"
            )
        return _reply(response, self.base_url)


def parse_answer(content: str) -> dict[int, _Item] | None:
    """Return the model's translations by line number, or None if there are none to read.

    Accepts the JSON object alone, in a code fence, or amid prose; a bare list of items;
    and "translation" for "text".
    """
    for candidate in [*_FENCE.findall(content), content]:
        for data in _json_values(candidate):
            items = _items(data)
            if items is not None:
                return items
    return None


def _json_values(text: str) -> Iterator[Any]:
    decoder = json.JSONDecoder()
    for match in list(re.finditer(r"[{\[]", text))[:50]:
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        yield value


def _items(data: Any) -> dict[int, _Item] | None:
    if isinstance(data, dict):
        data = data.get("lines", data.get("translations"))
    if not isinstance(data, list):
        return None
    items = {}
    for raw in data:
        if not isinstance(raw, dict) or "i" not in raw:
            continue
        try:
            i = int(raw["i"])
        except (TypeError, ValueError):
            continue
        text = raw.get("text", raw.get("translation", ""))
        refusal = raw.get("refusal") or ""
        items[i] = _Item(text if isinstance(text, str) else "", str(refusal))
    return items or None


def _reply(response: requests.Response, base_url: str) -> _Reply:
    try:
        choice = response.json()["choices"][0]
        message = choice["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise TranslationFailed(
            f"the endpoint at {base_url} did not answer like an OpenAI-compatible chat "
            f"completions API: {_excerpt(response.text)}"
        ) from None
    refusal = message.get("refusal") or ""
    if choice.get("finish_reason") == "content_filter":
        refusal = refusal or "stopped by the provider's content filter"
    return _Reply(content=message.get("content") or "", refusal=refusal)


def _unusable_note(reply: _Reply) -> str:
    if reply.refusal:
        return f"the LLM refused this line: {reply.refusal}"
    if not reply.content.strip():
        return "the LLM returned nothing for this line"
    return f"the LLM did not translate this line; it answered: {_excerpt(reply.content)}"


def _rank(line: TranslatedLine, target: str) -> tuple[bool, int, int]:
    return (line.over_budget, len(line.glossary_problems), budget.spoken_length(line.text, target))


def _is_plain_name(entry: Any, call: _Call) -> bool:
    # Character names kept as is are already listed under Characters.
    return entry.kept and call.bible.character(entry.source) is not None


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
