"""What a running job sees: its payload, the database, the media store, progress."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from hookline.db import Database
from hookline.errors import JobCancelled
from hookline.jobs import queue
from hookline.settings import Settings
from hookline.storage import MediaStore

# Progress is written at most this often per job, unless it reaches 100%.
PROGRESS_INTERVAL_S = 0.5


@dataclass
class JobContext:
    job_id: int
    attempt: int
    worker: str
    db: Database
    settings: Settings
    clock: Callable[[], datetime]
    cancel_requested: bool = False
    _last_progress_at: float = field(default=0.0, repr=False)

    @property
    def store(self) -> MediaStore:
        return MediaStore(self.settings.media_root)

    def now(self) -> datetime:
        return self.clock()

    def progress(self, percent: float, message: str = "") -> None:
        """Report progress (0-100) and stop the job here if someone cancelled it."""
        moment = time.monotonic()
        if percent < 100 and moment - self._last_progress_at < PROGRESS_INTERVAL_S:
            self.check_cancelled()
            return
        self._last_progress_at = moment
        with self.db.engine.begin() as conn:
            cancel = queue.report_progress(
                conn, self.worker, self.job_id, percent, message, now=self.now()
            )
        self.cancel_requested = self.cancel_requested or bool(cancel)
        self.check_cancelled()

    def check_cancelled(self) -> None:
        if self.cancel_requested:
            raise JobCancelled(f"job {self.job_id} was cancelled")
