"""How Hue failures are classified for the shared retry policy."""

from __future__ import annotations

import json

import aiohttp
from aiohue import BridgeBusy, LinkButtonNotPressed, Unauthorized
from aiohue.errors import AiohueException

from ...retry import Failure, FailureKind, classify_network_error


class MalformedResponseError(Exception):
    """The bridge answered with something that is not the expected JSON shape."""


def classify_hue_error(err: BaseException) -> Failure:
    """Classify a failure of one bridge request.

    A Hue bridge answers 429 when more than a few requests run at once and 503 when it
    is busy; both clear within seconds, so both are transient here (unlike a cloud
    rate limit). Reasons never carry the message of the error, which for v1 requests
    can hold the URL and so the app key.
    """
    if isinstance(err, (Unauthorized, LinkButtonNotPressed)):
        return Failure(FailureKind.AUTH, "app key rejected")
    if isinstance(err, BridgeBusy):
        return Failure(FailureKind.TRANSIENT, "bridge busy")
    if isinstance(
        err, (aiohttp.ContentTypeError, json.JSONDecodeError, MalformedResponseError)
    ):
        return Failure(FailureKind.TRANSIENT, "malformed response")
    if isinstance(err, aiohttp.ClientResponseError) and err.status == 429:
        return Failure(FailureKind.TRANSIENT, "HTTP 429")
    if (shared := classify_network_error(err)) is not None:
        return shared
    if isinstance(err, AiohueException):
        return Failure(FailureKind.PERMANENT, "bridge error")
    if isinstance(err, (LookupError, TypeError, ValueError, AttributeError)):
        return Failure(FailureKind.TRANSIENT, "malformed response")
    return Failure(FailureKind.PERMANENT, type(err).__name__)
