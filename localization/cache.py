"""Stage outputs found again by the hash of their inputs: reruns redo only what changed.

A stage names everything its result depends on (input file hashes, texts, settings,
and a version bumped when the stage's code changes meaning); the SHA-256 of that is
its key. A resumed job finds the stages it finished before it was killed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from hookline.models import StageOutput

# Bump a stage's version when its output for the same inputs would now differ.
VERSIONS = {
    "transcribe": 1,
    "source": 1,
    "translate": 1,
    "subtitles": 1,
    "voice": 1,
    "dub": 2,  # its output names the limiter's make-up gain
    "fit": 1,  # a voiced line stretched to its slot
    "render": 1,
    "burn": 1,
    "waveform": 1,  # the review page's peaks of a dub or a master
}


def stage_key(stage: str, inputs: Mapping[str, Any]) -> str:
    """Return the key of ``stage`` run on ``inputs`` (any JSON-able values)."""
    document = {"stage": stage, "version": VERSIONS[stage], "inputs": inputs}
    encoded = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def lookup(session: Session, key: str) -> dict[str, Any] | None:
    """Return the saved output of the stage run with this key, if it finished before."""
    found = session.exec(select(StageOutput).where(StageOutput.key == key)).first()
    return None if found is None else dict(found.data)


def remember(
    session: Session,
    key: str,
    stage: str,
    data: Mapping[str, Any],
    *,
    episode_id: int,
    language: str | None = None,
) -> None:
    """Save a stage's output (a concurrent run that saved the same key first wins)."""
    try:
        with session.begin_nested():
            session.add(
                StageOutput(
                    key=key, stage=stage, episode_id=episode_id, language=language, data=dict(data)
                )
            )
    except IntegrityError:  # the same stage finished elsewhere meanwhile: same inputs, same result
        pass
