"""The board's access rules without a browser: a read token closes reading, only the admin token
acts, a cookie session must also show its CSRF token and come from the board's own origin."""

from __future__ import annotations

from starlette.requests import Request

from board.security import SESSION_COOKIE, Access


def _request(cookie: str | None = None, **headers: str) -> Request:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    if cookie is not None:
        raw.append((b"cookie", f"{SESSION_COOKIE}={cookie}".encode()))
    raw.append((b"host", b"127.0.0.1:8765"))
    scope = {"type": "http", "method": "POST", "scheme": "http", "path": "/actions/mode",
             "query_string": b"", "headers": raw, "server": ("127.0.0.1", 8765)}  # fmt: skip
    return Request(scope)


def test_reading_is_open_unless_a_read_token_is_set() -> None:
    assert Access(admin_token="adm", read_token=None).may_read(_request())
    closed = Access(admin_token="adm", read_token="rd")
    assert not closed.may_read(_request())
    assert not closed.may_read(_request(authorization="Bearer wrong"))
    assert closed.may_read(_request(authorization="Bearer rd"))
    reader = closed.open_session(closed.role_for("rd") or "read", "ann")
    assert closed.may_read(_request(reader))


def test_only_the_admin_token_acts_and_a_cookie_session_needs_csrf_and_our_origin() -> None:
    access = Access(admin_token="adm", read_token="rd")
    assert access.may_act(_request(), "")[0] == 401
    assert access.may_act(_request(authorization="Bearer rd"), "")[0] == 401
    assert access.may_act(_request(authorization="Bearer adm"), "")[0] == 0
    reader = access.open_session("read", "ann")
    assert access.may_act(_request(reader), "")[0] == 401
    admin = access.open_session("admin", "dana")
    session = access.session(_request(admin))
    assert session is not None and session.role == "admin" and session.csrf
    assert access.may_act(_request(admin), "")[0] == 403
    assert access.may_act(_request(admin), "forged")[0] == 403
    assert access.may_act(_request(admin, origin="http://evil.example"), session.csrf)[0] == 403
    assert access.may_act(_request(admin, origin="null"), session.csrf)[0] == 403
    status, who = access.may_act(_request(admin, origin="http://127.0.0.1:8765"), session.csrf)
    assert status == 0 and who is not None and who.who == "dana"
    assert Access(admin_token=None, read_token=None).role_for("") is None  # no token: read-only
