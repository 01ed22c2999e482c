"""Every table of Hookline. Import models from here: ``from hookline.models import Episode``."""

from hookline.models.accounts import ApiToken, AuditEvent, Role, User
from hookline.models.base import UTCDateTime, metadata
from hookline.models.jobs import FINISHED, Job, JobStatus, Lock
from hookline.models.library import (
    AssetRole,
    Character,
    Episode,
    EpisodeAsset,
    EpisodeStatus,
    Gender,
    MediaAsset,
    Series,
    Term,
)
from hookline.models.localization import (
    CutKind,
    Localization,
    LocalizationStatus,
    LocalizedCut,
    StageOutput,
    SubtitleLine,
)
from hookline.models.metrics import MetricSnapshot, RetentionCurve
from hookline.models.publishing import (
    Channel,
    ChannelStatus,
    Publication,
    PublicationAttempt,
    PublicationStatus,
    QuotaSpend,
)
from hookline.models.transcripts import Transcript, TranscriptSegment, TranscriptWord

__all__ = [
    "FINISHED",
    "ApiToken",
    "AssetRole",
    "AuditEvent",
    "Channel",
    "ChannelStatus",
    "Character",
    "CutKind",
    "Episode",
    "EpisodeAsset",
    "EpisodeStatus",
    "Gender",
    "Job",
    "JobStatus",
    "Localization",
    "LocalizationStatus",
    "LocalizedCut",
    "Lock",
    "MediaAsset",
    "MetricSnapshot",
    "Publication",
    "PublicationAttempt",
    "PublicationStatus",
    "QuotaSpend",
    "RetentionCurve",
    "Role",
    "Series",
    "StageOutput",
    "SubtitleLine",
    "Term",
    "Transcript",
    "TranscriptSegment",
    "TranscriptWord",
    "UTCDateTime",
    "User",
    "metadata",
]
