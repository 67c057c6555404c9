"""Exception root of the jobs layer."""

from __future__ import annotations


class JobError(Exception):
    """Base of every error the jobs layer raises on purpose."""


class SpecError(JobError, ValueError):
    """A job specification has a value that is not accepted; the message names it."""


class DatasetError(JobError):
    """A dataset file is missing, truncated, corrupted or cannot be downloaded."""


class JobStopped(JobError):
    """The job was asked to stop while a step was in flight."""
