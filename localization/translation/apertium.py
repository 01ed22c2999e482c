"""Offline rule-based translation with Apertium (Debian packages ``apertium-*``).

``apertium -l`` lists the installed modes (``eng-spa``, ``eng-cat_valencia``); a batch of
lines goes through one ``apertium MODE`` call, the lines separated by blank lines: Apertium
treats a blank line as a paragraph end (a sentence boundary no transfer rule crosses) and
passes it through, so the output splits back into the same lines. Unknown words come back
marked with ``*``; we strip the marks and list the words in the line's note.

Apertium translates names that are also words ("Rose" becomes "Ascendió"), so the bible's
names and terms are swapped for placeholders it passes through and put back afterwards.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
from collections.abc import Sequence
from functools import cached_property

from localization.errors import TranslationFailed, UnsupportedLanguage
from localization.languages import ISO639_1, canonical, pair_label
from localization.translation import glossary
from localization.translation.base import (
    NO_BIBLE,
    Bible,
    LineRequest,
    TranslatedLine,
    Translator,
    finished_line,
    resolve_pair,
)

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "install the Debian packages, e.g. `apt-get install apertium apertium-eng-spa apertium-eng-cat`"
)
_MODE = re.compile(r"^([a-z]{2,3})(?:_(\w+))?-([a-z]{2,3})(?:_(\w+))?$")
_PARAGRAPH_BREAK = re.compile(r"\n(?:[ \t]*\n)+")
_UNKNOWN = re.compile(r"(?<![\w*])\*(\w[\w'’-]*)")


def parse_modes(listing: str) -> dict[tuple[str, str], str]:
    """Map (source, target) BCP-47 pairs to the modes in ``apertium -l`` output."""
    modes = {}
    for line in listing.split():
        match = _MODE.match(line.strip())
        if match is None:
            continue
        source_lang, source_variant, target_lang, target_variant = match.groups()
        try:
            pair = (_tag(source_lang, source_variant), _tag(target_lang, target_variant))
        except UnsupportedLanguage:
            continue
        modes.setdefault(pair, line.strip())
    return modes


def _run_command(args: list[str], text: str, timeout_s: float) -> tuple[int, str, str]:
    """Run ``args`` with ``text`` on stdin; on timeout kill it and every process it started.

    ``apertium`` is a shell script running a pipeline of programs: killing the script
    alone would leave them holding the output pipe, so it runs in its own process group.
    """
    with subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(text, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return proc.returncode, stdout, stderr


def _tag(language: str, variant: str | None) -> str:
    parts = [ISO639_1.get(language, language)]
    if variant:
        parts += variant.split("_")  # "US" is a region, "valencia" a variant subtag
    return canonical("-".join(parts))


_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?…)])")


class ApertiumTranslator(Translator):
    """Translate through the ``apertium`` command."""

    name = "apertium"

    def __init__(self, command: str = "apertium", *, timeout_s: float = 120.0) -> None:
        self.command = command
        self.timeout_s = timeout_s

    @cached_property
    def modes(self) -> dict[tuple[str, str], str]:
        """Return the installed modes by (source, target); empty when Apertium is missing."""
        try:
            returncode, stdout, stderr = _run_command([self.command, "-l"], "", self.timeout_s)
        except FileNotFoundError:
            return {}
        except subprocess.TimeoutExpired:
            raise TranslationFailed(
                f"`{self.command} -l` did not finish within {self.timeout_s:g} s"
            ) from None
        if returncode != 0:
            raise TranslationFailed(
                f"`{self.command} -l` failed (exit {returncode}): {stderr[-500:]}"
            )
        return parse_modes(stdout)

    def pairs(self) -> set[tuple[str, str]]:
        return set(self.modes)

    def describe(self) -> str:
        if not self.modes:
            return f"apertium: not installed ({INSTALL_HINT})"
        return f"apertium {pair_label(self.modes)}"

    def translate(
        self,
        lines: Sequence[LineRequest],
        *,
        source: str,
        target: str,
        bible: Bible = NO_BIBLE,
    ) -> list[TranslatedLine]:
        pair = resolve_pair(source, target, self.pairs())
        if pair is None:
            raise UnsupportedLanguage(
                f"Apertium cannot translate {source}→{target}. Installed: {self.describe()}"
            )
        mode = self.modes[pair]
        protected = [glossary.protect(" ".join(line.text.split()), bible, target) for line in lines]
        texts = [text for text, _ in protected if text]
        outputs = iter(self._translate_texts(mode, texts))
        results = []
        for line, (text, placeholders) in zip(lines, protected, strict=True):
            output = next(outputs) if text else ""
            results.append(self._finish(line, text, output, placeholders, target, bible))
        return results

    def _translate_texts(self, mode: str, texts: list[str]) -> list[str]:
        if not texts:
            return []
        outputs = _PARAGRAPH_BREAK.split(self._run(mode, "\n\n".join(texts)).strip("\n"))
        if len(outputs) == len(texts):
            return outputs
        # Should not happen (a blank line always passes through), but if it ever does,
        # one call per line keeps each translation with its line.
        log.warning(
            "Apertium %s returned %d paragraphs for %d lines; translating line by line",
            mode,
            len(outputs),
            len(texts),
        )
        return [self._run(mode, text).strip() for text in texts]

    def _run(self, mode: str, text: str) -> str:
        try:
            returncode, stdout, stderr = _run_command(
                [self.command, mode], text + "\n", self.timeout_s
            )
        except FileNotFoundError:
            raise TranslationFailed(f"apertium is not installed: {INSTALL_HINT}") from None
        except subprocess.TimeoutExpired:
            raise TranslationFailed(
                f"apertium {mode} did not finish within {self.timeout_s:g} s"
            ) from None
        if returncode != 0:
            raise TranslationFailed(f"apertium {mode} failed (exit {returncode}): {stderr[-500:]}")
        return stdout

    def _finish(
        self,
        line: LineRequest,
        sent: str,
        output: str,
        placeholders: dict[str, str],
        target: str,
        bible: Bible,
    ) -> TranslatedLine:
        unknown: list[str] = []
        if "*" not in sent:  # a literal * in the line would be taken for a mark
            shielded = {p.casefold() for p in placeholders}
            unknown = [w for w in _UNKNOWN.findall(output) if w.casefold() not in shielded]
            output = _UNKNOWN.sub(r"\1", output)
        # Apertium leaves a space before some punctuation ("un contrato , Lena").
        text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", glossary.restore(output, placeholders))
        note = f"apertium did not know: {', '.join(dict.fromkeys(unknown))}" if unknown else ""
        return finished_line(line, text, backend=self.name, target=target, bible=bible, note=note)
