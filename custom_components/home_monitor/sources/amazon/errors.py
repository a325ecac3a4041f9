"""What can go wrong talking to Amazon, and how each failure is handled.

Classification builds on `retry.classify_network_error`, which already maps
HTTP statuses (401/403/407 auth, 429 rate limited, 5xx transient) and
transport errors. Amazon adds three signals of its own: a redirect to the
sign-in page (the session expired), GraphQL errors inside an HTTP 200 reply
(`UNOFFICIAL_CLIENT_TOO_MANY_REQUESTS` is a rate limit), and bodies that are
not the JSON we asked for.
"""

from __future__ import annotations

from ...retry import Failure, FailureKind, classify_network_error


class AmazonError(Exception):
    """Base class; `reason` is short and never holds a secret."""

    kind = FailureKind.PERMANENT

    def __init__(self, reason: str) -> None:
        """Keep a short reason."""
        super().__init__(reason)
        self.reason = reason


class AmazonAuthError(AmazonError):
    """Amazon no longer accepts the session (or the refresh token)."""

    kind = FailureKind.AUTH


class AmazonRateLimitError(AmazonError):
    """Amazon asks the client to slow down."""

    kind = FailureKind.RATE_LIMITED


class AmazonTransientError(AmazonError):
    """Amazon sent the client elsewhere for now (a redirect not to the sign-in)."""

    kind = FailureKind.TRANSIENT


class AmazonResponseError(AmazonError):
    """The reply is not what was asked for (malformed, unexpected shape, HTML)."""


class AmazonLoginError(AmazonError):
    """An interactive sign-in failed; `reason` is a config-flow error key."""


def classify(err: BaseException) -> Failure:
    """Classify any failure of an Amazon request."""
    if isinstance(err, AmazonError):
        return Failure(err.kind, err.reason)
    if (failure := classify_network_error(err)) is not None:
        return failure
    return Failure(FailureKind.PERMANENT, type(err).__name__)
