"""Offline neural translation with Argos Translate packages.

An Argos package (``.argosmodel``) is a zip of ``metadata.json``, a CTranslate2 model
(``model/``) and a SentencePiece or BPE tokenizer. We read that format and tokenize with
argostranslate's own tokenizers, but we run the model ourselves and do not import
``argostranslate.translate``, because:

- its sentence splitting downloads at translation time: the default splitter (MiniSBD)
  fetches an ONNX model from GitHub for any package without one embedded, and the Stanza
  splitter re-fetches ``resources.json`` on first use; the service must never download;
- importing it imports spaCy, Stanza and onnxruntime (2–3 s; onnxruntime also writes a
  device id under ~/.cache), and ``argostranslate.settings`` creates folders under ~ and
  fixes its packages folder from environment variables at import time;
- its installed-language list is process-global and cached, where we want one packages
  folder per Translator.

Dialogue lines are short: we split them into sentences with a small rule (see
:func:`split_sentences`), translate with the same CTranslate2 options as argostranslate,
and pivot through an intermediate language (English first) when no direct package is
installed, combining hypotheses as argostranslate's CompositeTranslation does.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from hookline.errors import InvalidInput
from localization.errors import TranslationFailed, UnsupportedLanguage
from localization.languages import canonical, pair_label
from localization.translation import budget, glossary
from localization.translation.base import (
    NO_BIBLE,
    Bible,
    LineRequest,
    TranslatedLine,
    Translator,
    finished_line,
    line_for_human,
    resolve_pair,
)

log = logging.getLogger(__name__)

NUM_HYPOTHESES = 4
PIVOTS = ("en",)  # tried first as the intermediate language; any other installed one next
# argostranslate's decoding options, with one change: CTranslate2 stops a beam search
# once beam_size × patience hypotheses have finished, and at patience 1 short wrong
# hypotheses that end early can crowd out the best one (Kasai et al. 2022, "patience").
_BEAM_SIZE = 4
_PATIENCE = 2
_LENGTH_PENALTY = 0.2
_MAX_BATCH_TOKENS = 32
# Argos's own codes that are not BCP-47.
_ARGOS_CODES = {"zh": "zh-Hans", "zt": "zh-Hant", "pb": "pt-BR"}
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "st", "sr", "sra", "srta", "jr", "vs", "etc", "dña"}
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’»)]*\s+(?=\S)|(?<=[。！？])(?![」』”’）])")
INSTALL_HINT = "install one with `hookline models install argos FILE.argosmodel`"


@dataclass(frozen=True)
class ArgosPackage:
    """An installed package: ``source``/``target`` are BCP-47, ``from_code``/``to_code`` Argos's."""

    path: Path
    from_code: str
    to_code: str
    version: str = ""
    target_prefix: str = ""

    @property
    def source(self) -> str:
        return canonical(_ARGOS_CODES.get(self.from_code, self.from_code))

    @property
    def target(self) -> str:
        return canonical(_ARGOS_CODES.get(self.to_code, self.to_code))


@dataclass(frozen=True)
class _Hypothesis:
    text: str
    score: float  # sum of token log-probabilities; higher is better


def read_package(path: Path) -> ArgosPackage:
    """Read the installed package in folder ``path``; InvalidInput if it is not one."""
    try:
        metadata = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"{path} is not an Argos package: it has no metadata.json") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}/metadata.json is not valid JSON: {exc}") from None
    if not metadata.get("from_code") or not metadata.get("to_code"):
        raise InvalidInput(f"{path}/metadata.json names no from_code and to_code")
    if not (path / "model" / "model.bin").exists():
        raise InvalidInput(f"{path} has no CTranslate2 model (model/model.bin)")
    if not any((path / name).exists() for name in ("sentencepiece.model", "bpe.model")):
        raise InvalidInput(f"{path} has no tokenizer (sentencepiece.model or bpe.model)")
    package = ArgosPackage(
        path=path,
        from_code=metadata["from_code"],
        to_code=metadata["to_code"],
        version=str(metadata.get("package_version", "")),
        target_prefix=metadata.get("target_prefix", ""),
    )
    try:
        canonical(package.source), canonical(package.target)
    except UnsupportedLanguage:
        codes = f"{package.from_code!r}→{package.to_code!r}"
        raise InvalidInput(f"{path}/metadata.json: {codes} are not language codes") from None
    return package


def installed_packages(packages_dir: Path) -> list[ArgosPackage]:
    """Return the translation packages installed in ``packages_dir`` (none if it is missing)."""
    if not packages_dir.is_dir():
        return []
    packages = []
    for path in sorted(packages_dir.iterdir()):
        if not path.is_dir() or path.name.startswith("."):
            continue
        try:
            metadata = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
            if metadata.get("type", "translate") == "translate":
                packages.append(read_package(path))
        except (OSError, ValueError, InvalidInput) as exc:
            # One broken folder must not hide the other packages; say so in the log.
            log.warning("Ignoring %s, which is not a usable Argos package: %s", path, exc)
    return packages


def install_package(archive: Path, packages_dir: Path) -> ArgosPackage:
    """Install an ``.argosmodel`` file into ``packages_dir``, replacing one for the same pair."""
    archive = Path(archive)
    if not zipfile.is_zipfile(archive):
        raise InvalidInput(f"{archive} is not an Argos package (a .argosmodel zip file)")
    packages_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=packages_dir))
    try:
        top = _extract(archive, staging)
        package = read_package(staging / top)
        replaced = [
            old.path
            for old in installed_packages(packages_dir)
            if (old.from_code, old.to_code) == (package.from_code, package.to_code)
        ]
        shutil.rmtree(packages_dir / top, ignore_errors=True)
        os.replace(staging / top, packages_dir / top)
        for path in replaced:
            if path.name != top:
                log.info("Removing %s, replaced by %s", path, archive)
                shutil.rmtree(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("Installed Argos package %s→%s into %s", package.source, package.target, top)
    return read_package(packages_dir / top)


def _extract(archive: Path, into: Path) -> str:
    with zipfile.ZipFile(archive) as zf:
        names = [n for n in zf.namelist() if n.strip("/")]
        tops = {PurePosixPath(n).parts[0] for n in names}
        if len(tops) != 1 or any(
            ".." in PurePosixPath(n).parts or n.startswith("/") for n in names
        ):
            raise InvalidInput(
                f"{archive} is not laid out as an Argos package: one folder holding "
                "metadata.json, model/ and sentencepiece.model"
            )
        zf.extractall(into)
    return tops.pop()


def split_sentences(text: str) -> list[str]:
    """Split a line of dialogue into sentences, keeping "Mr. Lu" together."""
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start()].rstrip("\"'”’»)")
        last_word = re.findall(r"(\w+)\.$", before)
        if last_word and last_word[0].casefold() in _ABBREVIATIONS:
            continue
        if text[match.end() : match.end() + 1].islower():
            continue  # '"Why?" she asked' goes on
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


class _LoadedPackage:
    """A package's tokenizer and CTranslate2 model, loaded once."""

    def __init__(self, package: ArgosPackage) -> None:
        import ctranslate2
        from argostranslate.tokenizer import BPETokenizer, SentencePieceTokenizer

        self.package = package
        if (package.path / "sentencepiece.model").exists():
            self.tokenizer: Any = SentencePieceTokenizer(package.path / "sentencepiece.model")
        else:
            self.tokenizer = BPETokenizer(
                package.path / "bpe.model", package.from_code, package.to_code
            )
        try:
            self.model = ctranslate2.Translator(
                str(package.path / "model"), device="cpu", compute_type="auto"
            )
        except (RuntimeError, ValueError) as exc:
            raise TranslationFailed(
                f"the Argos package {package.source}→{package.target} at {package.path} "
                f"could not be loaded ({exc}); reinstall it: {INSTALL_HINT}"
            ) from exc

    def hypotheses(self, text: str, count: int) -> list[_Hypothesis]:
        """Return up to ``count`` translations of ``text``, best first."""
        tokenized = [self.tokenizer.encode(s) for s in split_sentences(text)]
        if not tokenized:
            return []
        prefix = self.package.target_prefix
        results = self.model.translate_batch(
            tokenized,
            target_prefix=[[prefix]] * len(tokenized) if prefix else None,
            replace_unknowns=True,
            max_batch_size=_MAX_BATCH_TOKENS,
            batch_type="tokens",
            beam_size=max(count, _BEAM_SIZE),
            patience=_PATIENCE,
            num_hypotheses=count,
            length_penalty=_LENGTH_PENALTY,
            return_scores=True,
        )
        found: dict[str, float] = {}
        for i in range(min(len(r.hypotheses) for r in results)):
            tokens = [token for r in results for token in r.hypotheses[i]]
            value = self.tokenizer.decode(tokens)
            if prefix and value.startswith(prefix):
                value = value[len(prefix) :]
            value = value.strip()
            if value and value not in found:
                found[value] = sum(r.scores[i] for r in results)
        return [_Hypothesis(v, s) for v, s in found.items()]


class ArgosTranslator(Translator):
    """Translate with the Argos packages installed in ``packages_dir``."""

    name = "argos"

    def __init__(self, packages_dir: Path, *, num_hypotheses: int = NUM_HYPOTHESES) -> None:
        self.packages_dir = Path(packages_dir)
        self.num_hypotheses = num_hypotheses
        self._loaded: dict[Path, _LoadedPackage] = {}
        self._lock = threading.Lock()

    def packages(self) -> list[ArgosPackage]:
        return installed_packages(self.packages_dir)

    def pairs(self) -> set[tuple[str, str]]:
        direct = {(p.source, p.target) for p in self.packages()}
        pivoted = {(a, c) for a, b in direct for b2, c in direct if b == b2 and a != c}
        return direct | pivoted

    def describe(self) -> str:
        direct = {(p.source, p.target) for p in self.packages()}
        if not direct:
            return f"argos: no packages in {self.packages_dir} ({INSTALL_HINT})"
        pivoted = self.pairs() - direct
        text = f"argos {pair_label(direct)}"
        return text + (f" (through a pivot: {pair_label(pivoted)})" if pivoted else "")

    def route(self, source: str, target: str) -> list[ArgosPackage]:
        """Return the packages that take ``source`` to ``target``: one, or two via a pivot."""
        packages = self.packages()
        by_pair = {(p.source, p.target): p for p in packages}
        direct = resolve_pair(source, target, set(by_pair))
        if direct is not None:
            return [by_pair[direct]]
        middles = sorted({p.target for p in packages}, key=lambda t: (t not in PIVOTS, t))
        for middle in middles:
            first = resolve_pair(source, middle, set(by_pair))
            second = resolve_pair(middle, target, set(by_pair))
            if first and second and first[0] != second[1]:
                return [by_pair[first], by_pair[second]]
        raise UnsupportedLanguage(
            f"No Argos package translates {source}→{target}. Installed: {self.describe()}"
        )

    def translate(
        self,
        lines: Sequence[LineRequest],
        *,
        source: str,
        target: str,
        bible: Bible = NO_BIBLE,
    ) -> list[TranslatedLine]:
        route = [self._load(p) for p in self.route(source, target)]
        results, failures = [], 0
        for line in lines:
            try:
                results.append(self._translate_line(route, line, target, bible))
            except RuntimeError as exc:  # CTranslate2's error for this input; others go on
                log.warning("Argos failed on line %s: %s", line.index, exc, exc_info=True)
                failures += 1
                note = f"argos failed on this line: {exc}"
                results.append(line_for_human(line, backend=self.name, note=note))
        if failures == len(lines) > 1:  # not one line in particular: the model is broken
            raise TranslationFailed(f"argos failed on every line of {source}→{target}")
        return results

    def _load(self, package: ArgosPackage) -> _LoadedPackage:
        with self._lock:
            if package.path not in self._loaded:
                self._loaded[package.path] = _LoadedPackage(package)
            return self._loaded[package.path]

    def _translate_line(
        self, route: list[_LoadedPackage], line: LineRequest, target: str, bible: Bible
    ) -> TranslatedLine:
        if not line.text.strip():
            return finished_line(line, "", backend=self.name, target=target, bible=bible)
        candidates: list[_Hypothesis] = []
        for batch in self._alternatives(route, line.text):
            candidates += batch
            if any(_is_clean(h, line, target, bible) for h in candidates):
                break
        if not candidates:
            return line_for_human(line, backend=self.name, note="argos produced no translation")
        best = max(candidates, key=lambda h: h.score)
        chosen = min(
            candidates,
            key=lambda h: (
                budget.over_budget(h.text, line.budget_chars, target),
                bool(glossary.check_terms(line.text, h.text, bible, target)),
                -h.score,
            ),
        )
        note = "" if chosen is best else _why_alternative(best, line, target, bible)
        return finished_line(
            line, chosen.text, backend=self.name, target=target, bible=bible, note=note
        )

    def _alternatives(self, route: list[_LoadedPackage], text: str) -> Iterator[list[_Hypothesis]]:
        """Yield batches of candidate translations, the most likely first."""
        first = route[0].hypotheses(text, self.num_hypotheses)
        if len(route) == 1:
            yield first
            return
        # Through a pivot, each first-leg hypothesis is translated on demand: most lines are
        # settled by the first one.
        for step in first:
            yield [
                _Hypothesis(h.text, step.score + h.score)
                for h in route[1].hypotheses(step.text, self.num_hypotheses)
            ]


def _is_clean(h: _Hypothesis, line: LineRequest, target: str, bible: Bible) -> bool:
    return not budget.over_budget(h.text, line.budget_chars, target) and not glossary.check_terms(
        line.text, h.text, bible, target
    )


def _why_alternative(best: _Hypothesis, line: LineRequest, target: str, bible: Bible) -> str:
    if budget.over_budget(best.text, line.budget_chars, target):
        return f"argos's first choice was too long ({best.text!r}); took a shorter alternative"
    return (
        f"argos's first choice missed the series bible's terms ({best.text!r}); took an alternative"
    )
