"""HTML pages of the simulated Amazon sign-in: e-mail and password, then the OTP code."""

from __future__ import annotations

from html import escape

SIGNIN_URL = "https://www.amazon.com/ap/signin"


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><title>{escape(title)}</title></head>"
        f"<body>{body}</body></html>"
    )


def _alert(message: str | None) -> str:
    if not message:
        return ""
    return f'<div class="a-alert-content" role="alert">{escape(message)}</div>'


def signin_page(workflow: str, message: str | None = None) -> str:
    """Return the e-mail and password form."""
    return _page(
        "Amazon Sign-In",
        _alert(message) + f'<form name="signIn" method="post" action="{SIGNIN_URL}">'
        '<input type="hidden" name="appActionToken" value="sim-action-token">'
        f'<input type="hidden" name="workflowState" value="{escape(workflow)}">'
        '<input type="email" name="email" id="ap_email">'
        '<input type="password" name="password" id="ap_password">'
        '<input type="submit" id="signInSubmit">'
        "</form>",
    )


def otp_page(workflow: str, message: str | None = None) -> str:
    """Return the two-step verification form (authenticator app code)."""
    return _page(
        "Two-Step Verification",
        _alert(message)
        + f'<form name="signIn" id="auth-mfa-form" method="post" action="{SIGNIN_URL}">'
        f'<input type="hidden" name="workflowState" value="{escape(workflow)}">'
        '<input type="hidden" name="mfaStep" value="otp">'
        '<input type="tel" name="otpCode" id="auth-mfa-otpcode" autocomplete="off">'
        '<input type="submit" id="auth-signin-button">'
        "</form>",
    )


def not_found_page() -> str:
    """Return the page `ap/maplanding` answers with (Amazon replies 404 there)."""
    return _page("Page Not Found", "<p>Looking for something?</p>")


def robot_check_page() -> str:
    """Return an HTML page where JSON was expected."""
    return _page("Robot Check", "<p>Enter the characters you see below</p>")
