"""The demo: a scripted microdrama series, voiced and rendered offline for a first run."""

from hookline.demo.media import RenderedEpisode, render_episode
from hookline.demo.script import (
    THE_CONTRACT_BRIDE,
    CastMember,
    EpisodeScript,
    GlossaryEntry,
    Line,
    SeriesScript,
    VoiceSpec,
)
from hookline.demo.soundtrack import TimedLine

__all__ = [
    "THE_CONTRACT_BRIDE",
    "CastMember",
    "EpisodeScript",
    "GlossaryEntry",
    "Line",
    "RenderedEpisode",
    "SeriesScript",
    "TimedLine",
    "VoiceSpec",
    "render_episode",
]
