"""Every table of Hookline. Import models from here: ``from hookline.models import Episode``."""

from hookline.models.accounts import ApiToken, AuditEvent, Role, User
from hookline.models.base import UTCDateTime, metadata
from hookline.models.feedback import FeedbackBrief, FeedbackPick, FeedbackTerm, TermKind
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
from hookline.models.metrics import (
    CollectionStatus,
    MetricCollection,
    MetricDay,
    MetricSnapshot,
    RetentionCurve,
)
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
    "CollectionStatus",
    "CutKind",
    "Episode",
    "EpisodeAsset",
    "EpisodeStatus",
    "FeedbackBrief",
    "FeedbackPick",
    "FeedbackTerm",
    "Gender",
    "Job",
    "JobStatus",
    "Localization",
    "LocalizationStatus",
    "LocalizedCut",
    "Lock",
    "MediaAsset",
    "MetricCollection",
    "MetricDay",
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
    "TermKind",
    "Transcript",
    "TranscriptSegment",
    "TranscriptWord",
    "UTCDateTime",
    "User",
    "metadata",
]
