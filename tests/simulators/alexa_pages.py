"""HTML pages of the simulated Amazon sign-in, as Amazon serves them today.

Today's sign-in asks for the e-mail on one page, the password on the next and
the authenticator-app code on a third; the later pages' form actions are
relative to the page. Clients that post the e-mail and password together (the
older form, library releases before 16.10) get the code page straight away,
with absolute form actions, as they expect. Amazon reports a wrong entry in an
``auth-error-message-box`` and a missing one in an ``auth-warning-message-box``.
"""

from __future__ import annotations

from html import escape

SIGNIN_PATH = "/ap/signin"


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><title>{escape(title)}</title></head>"
        f"<body>{body}</body></html>"
    )


def _box(box: str | None, message: str | None) -> str:
    if not message or not box:
        return ""
    return (
        f'<div id="auth-{box}-message-box" class="a-box a-alert">'
        f'<div class="a-alert-content"><ul><li>{escape(message)}</li></ul></div></div>'
    )


def _hidden(fields: dict[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )


def _form(action: str, hidden: dict[str, str], inputs: str, form_id: str = "") -> str:
    identity = f' id="{form_id}"' if form_id else ""
    return (
        f'<form name="signIn"{identity} method="post" action="{escape(action)}">'
        f"{_hidden(hidden)}{inputs}"
        '<input type="submit" id="signInSubmit"></form>'
    )


def email_page(
    action: str,
    hidden: dict[str, str],
    message: str | None = None,
    box: str | None = "error",
) -> str:
    """Return the first page: the e-mail address (or phone number)."""
    inputs = (
        '<input type="email" name="email" id="ap_email" autocomplete="username">'
        '<input type="hidden" name="create" value="0">'
    )
    return _page("Amazon Sign-In", _box(box, message) + _form(action, hidden, inputs))


def password_page(
    action: str, hidden: dict[str, str], message: str | None = None
) -> str:
    """Return the second page: the password."""
    inputs = (
        '<input type="password" name="password" id="ap_password"'
        ' autocomplete="current-password">'
        '<input type="checkbox" name="rememberMe" value="true">'
    )
    return _page(
        "Amazon Sign-In", _box("error", message) + _form(action, hidden, inputs)
    )


def otp_page(action: str, hidden: dict[str, str], message: str | None = None) -> str:
    """Return the two-step verification page (authenticator-app code)."""
    inputs = (
        '<input type="tel" name="otpCode" id="auth-mfa-otpcode" autocomplete="off">'
        '<input type="checkbox" name="rememberDevice" id="auth-mfa-remember-device">'
    )
    return _page(
        "Two-Step Verification",
        _box("error", message) + _form(action, hidden, inputs, "auth-mfa-form"),
    )


def signin_page(workflow: str, message: str | None = None) -> str:
    """Return the sign-in page a request with an expired session is sent to."""
    hidden = {"appActionToken": "expired", "workflowState": workflow}
    return email_page(f"https://www.amazon.com{SIGNIN_PATH}", hidden, message)


def not_found_page() -> str:
    """Return the page `ap/maplanding` answers with (Amazon replies 404 there)."""
    return _page("Page Not Found", "<p>Looking for something?</p>")


def robot_check_page() -> str:
    """Return an HTML page where JSON was expected."""
    return _page("Robot Check", "<p>Enter the characters you see below</p>")
