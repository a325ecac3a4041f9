"""An asyncio event loop whose clock jumps ahead whenever nothing is ready to run.

The benchmark simulates an hour of a bridge and its clients (aiohue's stream keep-alive,
read timeouts, the bridge's value changes) in seconds of real time. Client and bridge
share the loop and talk over loopback, where written bytes are readable at once, so
when no socket is ready the loop may skip straight to its next timer.
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any

LOOPBACK_GRACE = 0.002  # real seconds to wait for bytes in flight before jumping


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self) -> None:
        super().__init__()
        self.offset = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        ready = super().select(LOOPBACK_GRACE)
        if ready or timeout is None:
            return ready or super().select(None)
        self.offset += max(0.0, timeout - LOOPBACK_GRACE)
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector loop on simulated time."""

    def __init__(self) -> None:
        """Start at the real monotonic time; jump ahead when idle."""
        self._jumping = _JumpingSelector()
        super().__init__(self._jumping)

    def time(self) -> float:
        """Return the simulated monotonic time."""
        return super().time() + self._jumping.offset


def run(main: Any) -> Any:
    """Run a coroutine on a fresh virtual-clock loop."""
    loop = VirtualClockLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
