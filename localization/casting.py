"""Who speaks each line, in which voice: one voice per character per language, kept.

A character's voice for a language comes from the series bible. When the bible has
none, a default is chosen (stable for the name) and written back into the bible, so
the character sounds the same in every episode that follows.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from hookline.models import Character
from localization.tts import Voice, default_voice, voice_from_dict

NARRATOR = "Narrator"


def match_character(characters: Sequence[Character], speaker: str | None) -> Character | None:
    """Return the bible character a script's speaker label means ("LENA" -> Lena Hart)."""
    if not speaker:
        return None
    wanted = speaker.strip().casefold()
    for character in characters:
        name = character.name.casefold()
        if wanted in (name, name.split()[0], name.split()[-1]):
            return character
    return None


def voices_for(
    session: Session, characters: Sequence[Character], speakers: Sequence[str | None], language: str
) -> dict[str | None, Voice]:
    """Return a voice for every speaker, saving new defaults into the bible."""
    voices: dict[str | None, Voice] = {}
    for speaker in dict.fromkeys(speakers):
        character = match_character(characters, speaker)
        voices[speaker] = _voice(session, character, speaker, language)
    return voices


def _voice(
    session: Session, character: Character | None, speaker: str | None, language: str
) -> Voice:
    if character is None:
        return default_voice(language, "unknown", character=speaker or NARRATOR)
    kept = character.voices.get(language)
    if kept:
        return voice_from_dict(kept, language)
    voice = default_voice(language, character.gender, character=character.name)
    character.voices = {**character.voices, language: voice.as_dict()}
    session.add(character)
    return voice
