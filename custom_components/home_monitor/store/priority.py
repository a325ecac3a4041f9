"""The writer thread's CPU priority: below Home Assistant's event loop."""

import os
import sys
import threading

from ..const import LOGGER

WRITER_NICENESS = 10


def lower_priority() -> None:
    """Make the calling thread yield the CPU to the event loop when both want it.

    On Linux the nice value is per thread. Ten steps nicer, the writer still
    gets a tenth of a contended core, far more than a home's readings need,
    while Home Assistant's event loop runs first.
    """
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        nice = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, nice + WRITER_NICENESS))
    except OSError as err:  # pragma: no cover - not permitted in some sandboxes
        LOGGER.debug("Could not lower the history writer's priority: %s", err)
