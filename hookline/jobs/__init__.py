"""Durable jobs: the jobs table is the queue of record.

Public surface: :func:`enqueue`, :func:`job` (declare a kind), :class:`JobContext`,
:class:`Worker`, :func:`run_due_jobs`, and cancel / retry for the UI and API.
"""

from hookline.jobs.context import JobContext
from hookline.jobs.queue import enqueue, request_cancel, retry_now
from hookline.jobs.registry import job
from hookline.jobs.worker import Worker, run_due_jobs, run_jobs

__all__ = [
    "JobContext",
    "Worker",
    "enqueue",
    "job",
    "request_cancel",
    "retry_now",
    "run_due_jobs",
    "run_jobs",
]
