"""Exception root of the orchestrator layer."""

from __future__ import annotations


class OrchestratorError(Exception):
    """Base of every error the orchestrator raises on purpose."""


class StoreError(OrchestratorError):
    """The SQL store cannot be reached, opened or migrated."""


class JobNotFoundError(OrchestratorError):
    """No job has the given id."""


class InvalidTransitionError(OrchestratorError):
    """A state change that the transition table does not allow."""


class JobNotUsableError(OrchestratorError):
    """A job exists but cannot serve the request (an inference source that did not succeed)."""


class SettingsError(OrchestratorError):
    """A setting (environment variable or option) has a value that cannot be used."""


class ClusterError(OrchestratorError):
    """Ray could not be started or reached."""


class StaleAttemptError(OrchestratorError):
    """A driver's claim was superseded (the job was reaped and resumed elsewhere): it must stop
    without writing or sending anything more."""


class AccessError(OrchestratorError):
    """The job belongs to another owner."""


class TransientStoreError(StoreError):
    """The store did not answer (refused, terminated or locked); worth trying again."""


class WaitTimeoutError(OrchestratorError):
    """A job did not end within the time a caller was willing to wait."""
