"""Interactive sign-in through aioamazondevices' public API.

`AmazonEchoApi(...).login.login_mode_interactive(code)` runs Amazon's sign-in
(e-mail and password, then the authenticator-app code), registers a virtual
device and returns the login data. The constructor changed between releases
(16.x added a required ``save_data``); both forms are handled by looking at
the public signature, never at private attributes.
"""

from __future__ import annotations

from collections.abc import Iterable
import inspect
from pathlib import Path
from typing import Any

from aioamazondevices import AmazonEchoApi, CannotAuthenticate, CannotConnect
from aioamazondevices.exceptions import AmazonError as LibraryError
from aiohttp import ClientError
from bs4 import BeautifulSoup

from ...const import LOGGER
from .credentials import AmazonCredentials, stored_login_data
from .errors import AmazonLoginError
from .redact import protect
from .transport import AmazonHttp

AUTHORIZATION_CODE = "openid.oa2.authorization_code"

# aioamazondevices parses every reply with BeautifulSoup, whose encoding
# detection imports codec modules the first time it meets a kind of body. Meet
# the usual kinds now, while the integration is imported off the event loop.
for _body in (b'{"ascii":1}', "<p>\u00e9\u00e8 \u20ac</p>".encode()):
    BeautifulSoup(_body, "html.parser")


def _create_api(http: AmazonHttp, email: str, password: str, storage: Path) -> Any:
    factory: Any = AmazonEchoApi
    if "save_data" in inspect.signature(AmazonEchoApi).parameters:
        from aioamazondevices.structures import AmazonSaveDataConfig  # noqa: PLC0415

        save_data = AmazonSaveDataConfig(path=storage)
        return factory(http.session, email, password, save_data=save_data)
    return factory(http.session, email, password)


class AmazonSignIn:
    """One interactive sign-in; its password and code are redacted from logs."""

    def __init__(self, http: AmazonHttp, email: str, password: str, code: str) -> None:
        """Prepare a sign-in with the session `http`."""
        self._http = http
        self._email = email
        self._password = password
        self._code = code
        protect(self)

    def secret_values(self) -> Iterable[str]:
        """Return the password, the code and the session's cookies."""
        return [self._password, self._code, *self._http.cookie_values()]

    async def async_login(self, storage: Path) -> AmazonCredentials:
        """Sign in; raise `AmazonLoginError` with a config-flow error key."""
        api = _create_api(self._http, self._email, self._password, storage)
        try:
            login_data = await api.login.login_mode_interactive(self._code)
        except CannotAuthenticate as err:
            LOGGER.debug("Amazon did not accept the sign-in: %s", type(err).__name__)
            raise AmazonLoginError("invalid_auth") from None
        except CannotConnect, ClientError, TimeoutError:
            raise AmazonLoginError("amazon_cannot_connect") from None
        except LibraryError as err:
            LOGGER.warning("Amazon sign-in failed: %s", type(err).__name__)
            raise AmazonLoginError("cannot_retrieve_data") from None
        except KeyError as err:
            # Releases before 14 fail this way when the code was not accepted.
            if err.args == (AUTHORIZATION_CODE,):
                raise AmazonLoginError("invalid_auth") from None
            LOGGER.warning("Amazon sign-in got an unexpected reply: KeyError")
            raise AmazonLoginError("unknown") from None
        except (ValueError, TypeError, LookupError) as err:
            LOGGER.warning(
                "Amazon sign-in got an unexpected reply: %s", type(err).__name__
            )
            raise AmazonLoginError("unknown") from None
        credentials = AmazonCredentials(stored_login_data(login_data))
        if not credentials.login_data["customer_info"].get("user_id"):
            LOGGER.warning("Amazon's sign-in reply lacks the customer id")
            raise AmazonLoginError("unknown")
        return credentials
