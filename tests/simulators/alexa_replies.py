"""Building the simulator's replies: JSON, HTML, and the answers to injected faults."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from . import alexa_graphql as graphql
from .alexa_pages import robot_check_page, signin_page
from .alexa_state import Fault

SIGNIN_REDIRECT = (
    "https://www.amazon.com/ap/signin?openid.return_to=https%3A%2F%2Falexa.amazon.com"
)
MAPLANDING = "https://www.amazon.com/ap/maplanding"
MALFORMED = b'[{"data": {"listEndpoints": {"endpoints": [{"endpointId": "amzn1.'


def json_reply(
    data: Any, status: int = 200, content_type: str = "application/json"
) -> web.Response:
    # Amazon names the charset, as here; without it aiohttp guesses the encoding.
    return web.Response(
        body=json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode(),
        status=status,
        content_type=content_type,
        charset="utf-8",
    )


def html_reply(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html")


def fault_response(fault: Fault, body: Any) -> web.Response | None:
    """Return the answer for `fault`, or None for a timeout (handled by the caller)."""
    match fault:
        case (
            Fault.BAD_REQUEST | Fault.UNAUTHORIZED | Fault.FORBIDDEN | Fault.PROXY_AUTH
        ):
            return json_reply({"message": "Unauthorized"}, status=int(fault))
        case Fault.SIGNIN_REDIRECT:
            raise web.HTTPFound(SIGNIN_REDIRECT)
        case Fault.TOO_MANY_REQUESTS:
            return web.Response(status=429, text="Too Many Requests")
        case Fault.GRAPHQL_THROTTLED:
            return json_reply(graphql.throttled(body))
        case Fault.GRAPHQL_UNAUTHENTICATED:
            return json_reply(graphql.unauthenticated(body))
        case Fault.SERVER_ERROR | Fault.SERVICE_UNAVAILABLE:
            return web.Response(status=int(fault), text="Service Unavailable")
        case Fault.MALFORMED_JSON:
            return web.Response(body=MALFORMED, content_type="application/json")
        case Fault.WRONG_SHAPE:
            shape = {"data": {"listEndpoints": {"endpoints": "unexpected"}}}
            return json_reply([shape] if isinstance(body, list) else shape)
        case Fault.HTML_PAGE:
            return html_reply(robot_check_page())
        case Fault.SIGNIN_PAGE:
            return html_reply(signin_page("expired"))
        case Fault.OTHER_REDIRECT:
            raise web.HTTPFound("https://www.amazon.com/gp/help")
        case Fault.GRAPHQL_ERROR | Fault.GRAPHQL_PARTIAL:
            data = (
                {"listEndpoints": {"endpoints": []}}
                if fault is Fault.GRAPHQL_PARTIAL
                else None
            )
            error = {"message": "Internal", "extensions": {"errorCode": "INTERNAL"}}
            reply = {"errors": [error, "junk"], "data": data}
            return json_reply([reply] if isinstance(body, list) else reply)
        case Fault.EMPTY_REPLY:
            return json_reply(
                []
                if isinstance(body, list)
                else {"response": {"tokens": {"cookies": {}}}}
            )
    return None


async def chunked_reply(
    request: web.Request, response: web.Response, body: bytes
) -> web.StreamResponse:
    """Send `body` without a Content-Length, in chunks (as some Amazon servers do)."""
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.headers.pop("Content-Length", None)
    stream.enable_chunked_encoding()
    await stream.prepare(request)
    for start in range(0, len(body), 512):
        await stream.write(body[start : start + 512])
    await stream.write_eof()
    return stream
