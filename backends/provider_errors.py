"""Tell provider failures apart (no network, refused credentials, missing device) by cause chain."""

from __future__ import annotations

import socket
from collections.abc import Iterator

# Exception class names (requests, urllib3, botocore) that mean "the service was not reached".
# Matched by name so this module imports no vendor SDK.
_NETWORK_NAMES = frozenset(
    {
        "ConnectionError", "ConnectTimeout", "ReadTimeout", "Timeout", "NewConnectionError",
        "NameResolutionError", "MaxRetryError", "ProxyError", "EndpointConnectionError",
        "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
    }
)  # fmt: skip
_AUTH_NAMES = frozenset(
    {
        "IBMNotAuthorizedError", "InvalidAccountError", "AccountNotFoundError",
        "NoCredentialsError", "PartialCredentialsError", "UnauthorizedSSOTokenError",
    }
)  # fmt: skip
_AUTH_CODES = frozenset(
    {
        "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException",
        "ExpiredToken", "ExpiredTokenException", "AccessDeniedException", "AccessDenied",
        "SignatureDoesNotMatch", "IncompleteSignature",
    }
)  # fmt: skip


def chain(err: BaseException) -> Iterator[BaseException]:
    """The exception, then its __cause__ / __context__ ancestors (each once)."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def aws_error_code(err: BaseException) -> str | None:
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def http_status(err: BaseException) -> int | None:
    for attr in ("status_code", "status"):
        value = getattr(err, attr, None)
        if isinstance(value, int):
            return value
    return None


def network_cause(err: BaseException) -> BaseException | None:
    """The first exception in the chain that says the network failed, if any."""
    for item in chain(err):
        if isinstance(item, (socket.gaierror, socket.timeout, ConnectionError, TimeoutError)):
            return item
        if type(item).__name__ in _NETWORK_NAMES:
            return item
    return None


def auth_cause(err: BaseException) -> BaseException | None:
    """The first exception in the chain that says credentials are missing or refused."""
    for item in chain(err):
        if type(item).__name__ in _AUTH_NAMES or aws_error_code(item) in _AUTH_CODES:
            return item
        if http_status(item) in (401, 403):
            return item
    return None


def root_message(err: BaseException) -> str:
    """The innermost message, on one line (vendor errors nest several paragraphs)."""
    last = err
    for item in chain(err):
        last = item
    text = str(last) or type(last).__name__
    return " ".join(text.split())[:200]
