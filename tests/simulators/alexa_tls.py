"""The Amazon simulator's TLS context.

The client keeps Amazon's https URLs and only resolves the host names to the
simulator, so the simulator speaks TLS, with a throw-away certificate that
clients in simulator mode do not verify.
"""

from __future__ import annotations

from functools import cache
import ssl

from .tls import server_context


@cache
def server_ssl_context() -> ssl.SSLContext:
    """Return the simulator's server context (built once; does file I/O)."""
    return server_context("amazon simulator", "Amazon simulator")
