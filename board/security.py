"""Who may look and who may act: tokens, sessions, CSRF and the security headers.

- Read access is open unless a read token is configured; actions need the admin token. A token
  is typed once into the login form (never put in a URL, never logged) and exchanged for a
  random session id in an HttpOnly, SameSite=Strict cookie; ``Authorization: Bearer`` works for
  scripts.
- Every state-changing POST made with the cookie carries the session's CSRF token (a hidden form
  field, compared in constant time) and, when the browser sends one, an Origin of this board.
- Every response carries a Content-Security-Policy that allows only the board's own scripts
  (``script-src 'self'``: no inline script, no eval) and no framing; a backtest report (a static
  HTML file with inline styles and embedded images) is served with a policy of its own that
  allows no script at all, sandboxed.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import HTTPConnection

__all__ = [
    "PAGE_CSP",
    "REPORT_CSP",
    "SESSION_COOKIE",
    "Access",
    "SecurityHeaders",
    "Session",
]

Role = Literal["read", "admin"]

SESSION_COOKIE = "roostr_board_session"

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"

MAX_SESSIONS = 1_000


@dataclass(frozen=True)
class Session:
    role: Role
    who: str
    csrf: str


class Access:
    """The configured tokens and the live sessions (in memory: a restart logs everyone out)."""

    def __init__(self, admin_token: str | None, read_token: str | None) -> None:
        self._admin, self._read = admin_token or None, read_token or None
        self._sessions: dict[str, Session] = {}

    @property
    def actions_enabled(self) -> bool:
        return self._admin is not None

    @property
    def read_protected(self) -> bool:
        return self._read is not None

    def role_for(self, token: str) -> Role | None:
        """What a presented token grants (compared in constant time)."""
        if self._admin is not None and hmac.compare_digest(token.encode(), self._admin.encode()):
            return "admin"
        if self._read is not None and hmac.compare_digest(token.encode(), self._read.encode()):
            return "read"
        return None

    def open_session(self, role: Role, who: str) -> str:
        """A new session's id (for the cookie); the oldest session goes beyond MAX_SESSIONS."""
        if len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        session_id = secrets.token_urlsafe(32)
        self._sessions[session_id] = Session(role, who, secrets.token_urlsafe(32))
        return session_id

    def close_session(self, conn: HTTPConnection) -> None:
        self._sessions.pop(conn.cookies.get(SESSION_COOKIE, ""), None)

    def session(self, conn: HTTPConnection) -> Session | None:
        """The caller's session: from its cookie, or a one-off one for a bearer token."""
        header = conn.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            role = self.role_for(header[7:].strip())
            return Session(role, "bearer token", "") if role else None
        return self._sessions.get(conn.cookies.get(SESSION_COOKIE, ""))

    def may_read(self, conn: HTTPConnection) -> bool:
        return not self.read_protected or self.session(conn) is not None

    def may_act(self, conn: HTTPConnection, form_csrf: str) -> tuple[int, Session | None]:
        """(0, session) when ``conn`` may run an action, else the HTTP status that refuses it:
        401 without an admin session, 403 for a failed CSRF or Origin check."""
        session = self.session(conn)
        if session is None or session.role != "admin":
            return 401, None
        if session.csrf:  # a cookie session: the request must prove it came from our page
            origin = conn.headers.get("origin")
            if origin is not None and origin != f"{conn.url.scheme}://{conn.url.netloc}":
                return 403, None
            if not hmac.compare_digest(form_csrf.encode(), session.csrf.encode()):
                return 403, None
        return 0, session


Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


class SecurityHeaders:
    """ASGI middleware: the page CSP and hardening headers on every HTTP response that does not
    set its own Content-Security-Policy (the backtest reports do)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _value in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", PAGE_CSP.encode()))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),  # no-referrer makes Origin "null"
                    (b"x-frame-options", b"DENY"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
