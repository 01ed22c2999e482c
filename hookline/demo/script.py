"""The demo series as data: its bible (cast, voices, glossary) and three scripted episodes.

Nothing here touches the database or renders anything; the demo command seeds the
library from it and ``hookline.demo.media`` voices and renders it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class VoiceSpec:
    """An espeak-ng voice as the series bible stores it for one language."""

    voice: str
    rate_wpm: int = 165
    pitch: int = 50

    def as_dict(self) -> dict[str, Any]:
        """Return the form ``Character.voices`` keeps per language."""
        return {
            "backend": "espeak",
            "voice": self.voice,
            "rate_wpm": self.rate_wpm,
            "pitch": self.pitch,
        }


@dataclass(frozen=True)
class CastMember:
    """A speaking character: who they are, how they sound, where they stand on screen."""

    name: str
    gender: str  # a hookline.models.Gender value
    description: str
    voices: dict[str, VoiceSpec] = field(hash=False)
    # Stage position from -1 (left) to 1 (right): the card's side and the voice's pan.
    pan: float = 0.0
    color: str = "#888888"

    def voice(self, language: str) -> VoiceSpec:
        return self.voices[language]


@dataclass(frozen=True)
class GlossaryEntry:
    """A term of the series bible; ``translations`` leaves out languages that keep it as is."""

    term: str
    kind: str  # name | place | organisation | term | address
    note: str = ""
    translations: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Line:
    speaker: CastMember
    text: str


@dataclass(frozen=True)
class EpisodeScript:
    series_title: str
    number: int
    title: str
    hook_type: str
    tropes: tuple[str, ...]
    lines: tuple[Line, ...]
    language: str = "en"

    @property
    def cast(self) -> tuple[CastMember, ...]:
        """Return the characters who speak, in order of their first line."""
        return tuple(dict.fromkeys(line.speaker for line in self.lines))


@dataclass(frozen=True)
class SeriesScript:
    title: str
    slug: str
    source_language: str
    logline: str
    cast: tuple[CastMember, ...]
    glossary: tuple[GlossaryEntry, ...]
    episodes: tuple[EpisodeScript, ...]


TITLE = "The Contract Bride"

LENA = CastMember(
    name="Lena Hart",
    gender="female",
    description="A cleaner at the Cole Group who signs a one-year contract marriage; secretly"
    " the daughter of the company's erased founder, Thomas Hart.",
    voices={
        "en": VoiceSpec("en-us+f3", rate_wpm=160, pitch=55),
        "es": VoiceSpec("es+f3", rate_wpm=160, pitch=55),
    },
    pan=-0.3,
    color="#d9467a",
)

ADRIAN = CastMember(
    name="Adrian Cole",
    gender="male",
    description="Heir and CEO of the Cole Group, who needs a wife before his grandfather's"
    " will is read.",
    voices={
        "en": VoiceSpec("en-us+m3", rate_wpm=155, pitch=40),
        "es": VoiceSpec("es+m3", rate_wpm=155, pitch=40),
    },
    pan=0.3,
    color="#3f7fd9",
)

GLOSSARY = (
    GlossaryEntry("Cole Group", "organisation", "Adrian's family company; never translated."),
    GlossaryEntry("the contract", "term", "The one-year marriage contract.", {"es": "el contrato"}),
    GlossaryEntry("Harbor Tower", "place", "The Cole Group headquarters."),
    GlossaryEntry(
        "Mr. Cole", "address", "How Lena addresses Adrian until episode 2.", {"es": "señor Cole"}
    ),
)


def _dialogue(*pairs: tuple[CastMember, str]) -> tuple[Line, ...]:
    return tuple(Line(speaker, text) for speaker, text in pairs)


EPISODE_1 = EpisodeScript(
    series_title=TITLE,
    number=1,
    title="Sign Here, Mrs. Cole",
    hook_type="contract_marriage",
    tropes=("contract marriage", "ceo romance", "revenge"),
    lines=_dialogue(
        (ADRIAN, "Sign this contract, and you will be my wife for one year."),
        (LENA, "Your wife? I came here to clean your office, Mr. Cole."),
        (ADRIAN, "And I need a bride before my grandfather reads his will on Friday."),
        (LENA, "Why me? You could have any woman in this city."),
        (ADRIAN, "Because you are the only one who does not want my money."),
        (LENA, "My mother's hospital bills say otherwise."),
        (ADRIAN, "Then we both get what we need. One year. No love."),
        (LENA, "No love. Separate rooms. And you never touch me without asking."),
        (ADRIAN, "Agreed. My lawyers will be at Harbor Tower at nine."),
        (LENA, "One more thing. Why is my father's photo on your grandfather's desk?"),
    ),
)

EPISODE_2 = EpisodeScript(
    series_title=TITLE,
    number=2,
    title="The Wedding Slap",
    hook_type="confrontation_slap",
    tropes=("contract marriage", "revenge", "ceo romance"),
    lines=_dialogue(
        (ADRIAN, "Did you just slap my stepmother in front of three hundred guests?"),
        (LENA, "She called my mother a thief. At my own wedding."),
        (ADRIAN, "This wedding is a contract, Lena. Not a war."),
        (LENA, "Then read the contract. Page four. My wife will be treated with respect."),
        (ADRIAN, "You memorized page four?"),
        (LENA, "I memorize everything, Mr. Cole."),
        (ADRIAN, "Call me Adrian. The guests are watching."),
        (LENA, "Let them watch. Your stepmother is hiding something."),
        (ADRIAN, "What could she possibly hide from me?"),
        (LENA, "The night my father disappeared, she moved forty million dollars."),
        (ADRIAN, "Impossible. That money built the Cole Group."),
        (LENA, "I know. Because I found the real founder's will. And his daughter is me."),
    ),
)

EPISODE_3 = EpisodeScript(
    series_title=TITLE,
    number=3,
    title="The Real Heir",
    hook_type="hidden_identity_reveal",
    tropes=("hidden identity", "revenge", "ceo romance"),
    lines=_dialogue(
        (ADRIAN, "You are the daughter of Thomas Hart? The man who built the Cole Group?"),
        (LENA, "The man your family erased. Yes."),
        (ADRIAN, "So you married me for revenge."),
        (LENA, "I married you for the truth. The money was your idea."),
        (ADRIAN, "The board meets at Harbor Tower in one hour."),
        (LENA, "Then I will be there. With the will in my hand."),
        (ADRIAN, "If you do that, my family loses everything."),
        (LENA, "Then choose, Adrian. Your family, or your wife."),
        (ADRIAN, "I choose the contract. You are still my wife."),
        (LENA, "Then stand beside me when I walk into that room."),
        (ADRIAN, "Wait. There is a page of the will you have not read."),
        (LENA, "What could be worse than what your family did?"),
        (ADRIAN, "The last page. Your father left everything to me."),
    ),
)

THE_CONTRACT_BRIDE = SeriesScript(
    title=TITLE,
    slug="the-contract-bride",
    source_language="en",
    logline="A cleaner signs a one-year contract marriage with the heir of the Cole Group,"
    " then learns the company was stolen from her own father.",
    cast=(LENA, ADRIAN),
    glossary=GLOSSARY,
    episodes=(EPISODE_1, EPISODE_2, EPISODE_3),
)
