"""The schema library: probatio on current Home Assistant, voluptuous before it.

Home Assistant replaced voluptuous with probatio and aliases `voluptuous` to
it at start-up, so importing `voluptuous` gives the right library at run time
on every supported release; type checking uses probatio's types.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import probatio as vol
else:
    import voluptuous as vol

__all__ = ["vol"]
