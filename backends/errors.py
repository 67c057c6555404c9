"""Exception root of the backends layer."""

from __future__ import annotations


class BackendError(Exception):
    """Base of every error the backends layer raises on purpose."""


class TemplateError(BackendError):
    """A circuit template field has a value outside what is supported."""


class ParameterError(BackendError):
    """Inputs or weights handed to a circuit have the wrong shape or type."""


class NoiseSpecError(BackendError):
    """A `--noise` specification could not be parsed or has values out of range."""


class CapabilityError(BackendError):
    """A request exceeds what the backend can take (width, shots, circuits, noise)."""


class CredentialsError(BackendError):
    """Provider credentials are missing or were refused."""


class ProviderUnreachableError(BackendError):
    """The provider's service could not be reached (network, DNS, timeout)."""


class DeviceUnavailableError(BackendError):
    """The named device is unknown, retired or not offered to this account."""


class ProviderJobError(BackendError):
    """A provider job failed, was cancelled or cannot be found."""
