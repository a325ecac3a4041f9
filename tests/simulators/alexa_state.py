"""What the Amazon simulator knows: the account, its devices, issued secrets, faults.

Values are deterministic: monitor `n` at sample `i` always reports the same
numbers, so tests can compare entity states with `expected_values()`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import secrets
from typing import Any

AQM_DEVICE_TYPE = "AEZME1X38KDRA"
ECHO_DEVICE_TYPE = "A4ZP7ZC4PI6TO"
APP_DEVICE_TYPE = "A2IVLV5VM2W81"
SAMPLE_EPOCH = datetime(2026, 9, 12, 8, 0, tzinfo=UTC)

# Range instance -> (measurement, the label Amazon gives the range).
DEFAULT_RANGES: dict[str, tuple[str, str]] = {
    "4": ("humidity", "Indoor humidity"),
    "5": ("voc_index", "Volatile organic compounds"),
    "6": ("pm25", "Particulate matter"),
    "7": ("pm10", "Particulate matter PM10"),
    "8": ("co", "Carbon monoxide"),
    "9": ("air_quality", "Indoor air quality"),
}


class Fault(StrEnum):
    """A failure the simulator can answer with."""

    BAD_REQUEST = "400"
    UNAUTHORIZED = "401"
    FORBIDDEN = "403"
    PROXY_AUTH = "407"
    SIGNIN_REDIRECT = "signin_redirect"
    TOO_MANY_REQUESTS = "429"
    GRAPHQL_THROTTLED = "graphql_throttled"
    # An expired session reported inside an HTTP 200 GraphQL reply.
    GRAPHQL_UNAUTHENTICATED = "graphql_unauthenticated"
    SERVER_ERROR = "500"
    SERVICE_UNAVAILABLE = "503"
    TIMEOUT = "timeout"
    MALFORMED_JSON = "malformed_json"
    WRONG_SHAPE = "wrong_shape"
    HTML_PAGE = "html_page"
    SIGNIN_PAGE = "signin_page"
    OTHER_REDIRECT = "other_redirect"
    GRAPHQL_ERROR = "graphql_error"
    GRAPHQL_PARTIAL = "graphql_partial"
    EMPTY_REPLY = "empty_reply"


class Target(StrEnum):
    """Which requests a fault applies to."""

    STATE = "state"
    DISCOVERY = "discovery"
    FEATURES = "features"
    TOKEN = "token"  # noqa: S105
    REGISTER = "register"
    ANY = "any"


@dataclass(slots=True)
class PendingFault:
    """A fault waiting for matching requests."""

    fault: Fault
    target: Target
    remaining: int


@dataclass(slots=True)
class RequestRecord:
    """One request the simulator answered."""

    host: str
    method: str
    path: str
    operation: str | None
    status: int
    request_bytes: int
    response_bytes: int
    # Header names in lower case -> value; the names of the cookies sent.
    headers: dict[str, str] = field(default_factory=dict)
    cookies: frozenset[str] = frozenset()
    query: str = ""
    # The body of a token exchange (a form), kept to compare with the library's.
    form: str = ""


def _values(index: int, sample: int) -> dict[str, float]:
    i = sample + 3 * index
    celsius = 20.5 + (i % 6) * 0.25 + index
    return {
        "humidity": 40 + (i * 3) % 20,
        "voc_index": 10 + (i * 7) % 60,
        "pm25": 5 + (i * 2) % 15,
        "pm10": 8 + (i * 3) % 25,
        "co": round(0.1 * ((i % 5) + 1), 1),
        "air_quality": 90 - (i * 4) % 40,
        "temperature": celsius,
    }


@dataclass(slots=True)
class SimulatedMonitor:
    """One Amazon Smart Air Quality Monitor on the account."""

    index: int
    serial: str
    name: str
    endpoint_id: str
    fahrenheit: bool = False
    online: bool = True
    manufacturer: str = "Amazon"
    software_version: str = "10012345"
    ranges: dict[str, tuple[str, str]] = field(
        default_factory=lambda: dict(DEFAULT_RANGES)
    )
    # Feature key ("temperature", "connectivity" or a range instance) -> error.
    property_errors: dict[str, dict[str, str]] = field(default_factory=dict)
    # Feature key -> raw value to report instead of the generated one.
    raw_overrides: dict[str, object] = field(default_factory=dict)

    def values(self, sample: int) -> dict[str, float]:
        """Return this monitor's values at `sample`, in canonical units."""
        return _values(self.index, sample)


@dataclass(slots=True)
class SimulatedEcho:
    """An Echo speaker, so the account looks like a real one to the library."""

    serial: str
    name: str
    endpoint_id: str
    manufacturer: str = "Amazon"
    software_version: str = "8989"


@dataclass(slots=True)
class Account:
    """The one Amazon account the simulator serves."""

    email: str = "aqm.owner@example.com"
    password: str = "correct horse battery staple"  # noqa: S105
    otp: str = "246810"
    user_id: str = "amzn1.account.AHMSIMULATEDUSER0001"
    customer_id: str = "A1HMSIMCUSTOMER"
    domain: str = "com"
    home_region: str = "NA"
    # Amazon names the country of residence in users/me (accounts without one exist).
    reports_country: bool = True

    @property
    def country(self) -> str:
        """Return the country of residence Amazon reports (``US``, ``DE``, ``GB``)."""
        code = self.domain.rsplit(".", 1)[-1].upper()
        return {"COM": "US", "UK": "GB"}.get(code, code)


def cookie_suffix(domain: str) -> str:
    """Return the suffix of an Amazon site's session cookie names (``main``, ``acbde``)."""
    return "main" if domain == "com" else f"acb{domain.rsplit('.', 1)[-1]}"


def session_cookie_names(domain: str) -> tuple[str, ...]:
    """Return the names of the website cookies Amazon issues for `domain`."""
    suffix = cookie_suffix(domain)
    return (
        "session-id",
        f"ubid-{suffix}",
        f"at-{suffix}",
        f"sess-at-{suffix}",
        f"x-{suffix}",
        "session-token",
    )


def token(prefix: str, size: int = 24) -> str:
    """Return a fresh random secret with Amazon's style of prefix."""
    return f"{prefix}{secrets.token_urlsafe(size)}"


@dataclass(slots=True)
class AlexaState:
    """Everything the simulator's handlers read and change."""

    account: Account = field(default_factory=Account)
    monitors: list[SimulatedMonitor] = field(default_factory=list)
    echos: list[SimulatedEcho] = field(default_factory=list)
    sample: int = 0
    sample_period: timedelta = timedelta(minutes=5)
    # How wrong the monitors' clocks are (their `timeOfSample`).
    clock_offset: timedelta = timedelta()
    # Secrets this simulator handed out (or was configured with).
    secrets: set[str] = field(default_factory=set)
    # PKCE: authorization code -> code challenge; sign-in flows by workflow state.
    auth_codes: dict[str, str] = field(default_factory=dict)
    workflows: dict[str, str] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    refresh_token: str | None = None
    # Amazon domain ("com", "de", ...) -> the website cookies valid there.
    valid_cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    app_serials: list[str] = field(default_factory=list)
    refresh_revoked: bool = False
    expired_answer: Fault = Fault.UNAUTHORIZED
    faults: list[PendingFault] = field(default_factory=list)
    requests: list[RequestRecord] = field(default_factory=list)
    logins: int = 0
    # Cookie the sign-in pages set (a sign-in without it is refused).
    signin_sessions: set[str] = field(default_factory=set)
    # Send replies without a Content-Length (chunked), as some Amazon servers do.
    chunked_replies: bool = False

    def __post_init__(self) -> None:
        """Count the configured password and code as secrets."""
        self.secrets.update({self.account.password, self.account.otp})

    def issue(self, prefix: str, size: int = 24) -> str:
        """Return a new secret and remember it."""
        value = token(prefix, size)
        self.secrets.add(value)
        return value

    def issue_cookies(self, domain: str = "com") -> dict[str, str]:
        """Hand out fresh website cookies for `domain`; older ones stop working."""
        prefixes = ("135-", "131-", "Atza|", "sat", "xm", "st")
        sizes = (12, 12, 24, 16, 16, 48)
        self.valid_cookies[domain] = {
            name: self.issue(prefix, size)
            for name, prefix, size in zip(
                session_cookie_names(domain), prefixes, sizes, strict=True
            )
        }
        return dict(self.valid_cookies[domain])

    def register(self, serial: str, domain: str = "com") -> dict[str, Any]:
        """Register a virtual app device; return tokens and extensions as Amazon does."""
        self.app_serials.append(serial)
        self.logins += 1
        self.refresh_token = self.issue("Atnr|")
        self.refresh_revoked = False
        access = self.issue("Atza|")
        self.access_tokens.add(access)
        cookies = self.issue_cookies(domain)
        session_token = cookies.pop("session-token")
        tokens = {
            "bearer": {
                "access_token": access,
                "refresh_token": self.refresh_token,
                "expires_in": "3600",
            },
            "mac_dms": {
                "adp_token": self.issue("{enc:"),
                "device_private_key": self.issue("MIIEv", 48),
            },
            "website_cookies": [
                {"Name": name, "Value": value, "Path": "/", "Secure": "true"}
                for name, value in cookies.items()
            ],
            "store_authentication_cookie": {"cookie": session_token},
        }
        extensions = {
            "device_info": {
                "device_name": "Sim's AioAmazonDevices",
                "device_serial_number": serial,
                "device_type": APP_DEVICE_TYPE,
            },
            "customer_info": {
                "account_pool": "Amazon",
                "user_id": self.account.user_id,
                "home_region": self.account.home_region,
                "name": "Sim User",
                "given_name": "Sim",
            },
        }
        return {"tokens": tokens, "extensions": extensions}

    def cookies_valid(self, domain: str, cookies: dict[str, str]) -> bool:
        """Return whether a request to `domain` carries its current session.

        Every website cookie must be there; the access and session tokens must
        be the current ones.
        """
        valid = self.valid_cookies.get(domain)
        if not valid or not set(valid) <= set(cookies):
            return False
        suffix = cookie_suffix(domain)
        return all(
            cookies[name] == valid[name] for name in (f"at-{suffix}", "session-token")
        )

    def expire_cookies(self) -> None:
        """Make every issued website cookie stop working."""
        self.valid_cookies = {
            domain: {name: f"expired-{value}" for name, value in cookies.items()}
            for domain, cookies in self.valid_cookies.items()
        }

    def take_fault(self, target: Target) -> Fault | None:
        """Return (and use up) the first fault that applies to `target`."""
        for pending in self.faults:
            if pending.target in (target, Target.ANY):
                pending.remaining -= 1
                if pending.remaining <= 0:
                    self.faults.remove(pending)
                return pending.fault
        return None

    def time_of_sample(self) -> str:
        """Return the current sample's time as Amazon formats it."""
        at = SAMPLE_EPOCH + self.sample * self.sample_period + self.clock_offset
        return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def operations(self) -> Counter[str]:
        """Return how many requests each GraphQL operation (or path) got."""
        return Counter(r.operation or r.path for r in self.requests)
