"""The board's web application: server-side pages, a JSON API for the charts, live updates by
server-sent events, and the three authenticated actions.

Pages are Jinja2 templates with autoescaping on: every scraped field (message, author, channel,
ticker, source) is text, never markup. The browser's scripts are static files that put data into
the page with ``textContent`` only; the Content-Security-Policy (``board.security``) forbids any
other script.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from board.backtests import find_reports, report_path
from board.leaderboard import By, CallerStats, leaderboard, to_csv
from board.model_panel import ModelPanel, model_panel
from board.security import REPORT_CSP, SESSION_COOKIE, Access, SecurityHeaders
from board.store import TIERS, BoardStore, FeedFilter
from roostr.contracts import MODES, ModelUpdate, ScoredSignal
from roostr.group_lag import GroupLagReader
from roostr.logs import get_logger
from roostr.registry import ModelRegistry, RegistryError
from training.model_actions import announce, apply_change

__all__ = ["FEED_ROWS", "FLUSH_S", "create_app"]

log = get_logger("roostr.board")

FEED_ROWS = 200
"""Rows a feed page is rendered with; live rows are added on top (the page keeps 500)."""
FLUSH_S = 0.25
"""Live updates are sent in batches this often: one event per batch, not one per signal."""
FLUSH_LIMIT = 500
PANEL_TTL_S = 10.0
SORTS = ("calls", "hit_rate", "median_multiple", "first_share", "last_call", "pending", "caller")


def create_app(
    store: BoardStore,
    access: Access,
    reports_dir: Path,
    lag: GroupLagReader,
    healthy: Callable[[], bool] = lambda: True,
) -> Starlette:
    """The ASGI app over a store another thread fills."""
    settings = store.settings
    env = Environment(
        loader=PackageLoader("board", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    templates = Jinja2Templates(env=env)
    panel_cache: dict[str, Any] = {}

    def page(request: Request, name: str, **context: Any) -> Response:
        session = access.session(request)
        return templates.TemplateResponse(
            request,
            name,
            {
                "session": session,
                "actions_enabled": access.actions_enabled,
                "signals_held": store.size,
                **context,
            },
        )

    def guard(request: Request) -> None:
        if not access.may_read(request):
            raise HTTPException(401, "a read token is required: log in")

    def feed_filter(request: Request) -> FeedFilter:
        q = request.query_params
        return FeedFilter(
            tier=q.get("tier", ""),
            source=q.get("source", ""),
            author=q.get("author", ""),
            ticker=q.get("ticker", "").strip(),
        )

    async def feed(request: Request) -> Response:
        guard(request)
        keep = feed_filter(request)
        after = store.seq
        sources, authors = store.choices()
        return page(
            request,
            "feed.html",
            rows=store.latest(keep, FEED_ROWS),
            after=after,
            filter=keep,
            tiers=TIERS,
            sources=sources,
            authors=authors,
        )

    async def events(request: Request) -> Response:
        guard(request)
        keep = feed_filter(request)
        try:
            after = int(request.query_params.get("after", store.seq))
        except ValueError:
            after = store.seq

        async def stream() -> AsyncIterator[dict[str, str]]:
            seq = after
            while True:
                rows = store.since(seq, FLUSH_LIMIT)
                if rows:
                    seq = rows[-1].seq
                    kept = [r.as_json() for r in rows if keep.keeps(r)]
                    if kept:
                        yield {"event": "signals", "id": str(seq), "data": _json(kept)}
                await asyncio.sleep(FLUSH_S)

        return EventSourceResponse(stream(), ping=15)

    def held_signal(request: Request) -> ScoredSignal:
        guard(request)
        signal = store.signal(request.path_params["signal_id"])
        if signal is None:
            raise HTTPException(404, "not among the signals the board holds")
        return signal

    async def signal_detail(request: Request) -> Response:
        signal = held_signal(request)
        features = sorted(signal.features.items())
        return page(
            request,
            "signal.html",
            signal=signal,
            outcome=store.outcome(signal.signal_id),
            features=features,
        )

    async def signal_json(request: Request) -> Response:
        signal = held_signal(request)
        horizon = timedelta(days=settings.outcome_horizon_days)
        start, end = signal.posted_at - timedelta(days=1), signal.posted_at + horizon
        path = [
            {"ts": ts.isoformat(), "price": price}
            for ts, price in store.price_path(signal.ticker)
            if start <= ts <= end  # instants, whatever offset each was written with
        ]
        return JSONResponse(
            {
                "reasons": [r.model_dump() for r in signal.reasons],
                "prices": path,
                "posted_at": signal.posted_at.isoformat(),
            }
        )

    def board_rows(request: Request) -> tuple[str, str, list[CallerStats]]:
        by: By = "source" if request.query_params.get("by") == "source" else "author"
        sort = request.query_params.get("sort", "calls")
        sort = sort if sort in SORTS else "calls"
        rows = leaderboard(store.calls(), store.cutoff, by)
        if sort != "calls":
            reverse = sort != "caller"
            rows = sorted(rows, key=lambda r: _sort_key(getattr(r, sort)), reverse=reverse)
        return by, sort, rows

    async def leaderboard_page(request: Request) -> Response:
        guard(request)
        by, sort, rows = board_rows(request)
        return page(
            request, "leaderboard.html", by=by, sort=sort, rows=rows, sorts=SORTS,
            cutoff=store.cutoff,
        )  # fmt: skip

    async def leaderboard_csv(request: Request) -> Response:
        guard(request)
        by, _sort, rows = board_rows(request)
        return Response(
            to_csv(rows),
            media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="leaderboard-{by}.csv"'},
        )

    async def refresh_panel() -> ModelPanel:
        fresh = await run_in_threadpool(model_panel, store, lag)
        panel_cache.update(panel=fresh, at=asyncio.get_running_loop().time())
        panel_cache.pop("refreshing", None)
        return fresh

    async def panel() -> ModelPanel:
        """The panel; once one exists a stale one is served while the next is computed (it
        parses every held signal: about a second with 20 000)."""
        cached: ModelPanel | None = panel_cache.get("panel")
        if cached is None:
            return await refresh_panel()
        stale = asyncio.get_running_loop().time() - panel_cache["at"] > PANEL_TTL_S
        if stale and "refreshing" not in panel_cache:
            panel_cache["refreshing"] = asyncio.create_task(refresh_panel())
        return cached

    async def model_page(request: Request) -> Response:
        guard(request)
        return page(
            request, "model.html", panel=await panel(), modes=MODES,
            versions=_versions(settings.registry_dir),
            message=request.query_params.get("done", ""),
        )  # fmt: skip

    async def model_json(request: Request) -> Response:
        guard(request)
        return JSONResponse({"calibration": (await panel()).calibration})

    async def backtests(request: Request) -> Response:
        guard(request)
        return page(request, "backtests.html", reports=find_reports(reports_dir), root=reports_dir)

    async def backtest_report(request: Request) -> Response:
        guard(request)
        path = report_path(reports_dir, request.path_params["name"])
        if path is None:
            raise HTTPException(404, "no such report")
        return FileResponse(path, media_type="text/html", headers={"content-security-policy":
                                                                   REPORT_CSP})  # fmt: skip

    async def login_form(request: Request) -> Response:
        return page(request, "login.html", failed=False)

    async def login(request: Request) -> Response:
        form = await request.form()
        role = access.role_for(str(form.get("token", "")))
        if role is None:
            log.warning("board_login_refused", client=_client(request))
            response = page(request, "login.html", failed=True)
            response.status_code = 401
            return response
        who = str(form.get("who", "")).strip()[:64] or "anonymous"
        log.info("board_login", who=who, role=role, client=_client(request))
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE, access.open_session(role, who), httponly=True, samesite="strict"
        )
        return response

    async def logout(request: Request) -> Response:
        access.close_session(request)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    async def action(request: Request) -> Response:
        name = request.path_params["action"]
        form = await request.form()
        status, session = access.may_act(request, str(form.get("csrf", "")))
        if session is None:
            log.warning("board_action_refused", action=name, status=status,
                        client=_client(request))  # fmt: skip
            return JSONResponse({"error": "refused"}, status_code=status)
        value = str(form.get("value", ""))
        change = _change(name, value)
        if name == "shadow" and value and value not in _versions(settings.registry_dir):
            change = None  # only a registered version: never a path
        if change is None:
            raise HTTPException(400, "unknown action or value")
        what = f"{name} {form.get('value', '')}".strip()
        try:
            update = await run_in_threadpool(apply_change, settings, change)
        except RegistryError as exc:
            log.warning("board_action_failed", who=session.who, action=what, error=str(exc))
            raise HTTPException(409, str(exc)) from exc
        failure = await run_in_threadpool(announce, update, settings)
        log.info(
            "board_action", who=session.who, action=what, client=_client(request),
            champion=update.model_version, shadow=update.shadow_version, mode=update.mode,
            announced=failure is None,
        )  # fmt: skip
        panel_cache.clear()
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"update": update.model_dump(mode="json"), "failure": failure})
        return RedirectResponse(f"/model?done={what}", status_code=303)

    async def health(request: Request) -> Response:
        ok = healthy()
        counts = {"signals": store.size, "read": store.read, "invalid": store.invalid}
        return JSONResponse({"ok": ok, **counts}, status_code=200 if ok else 503)

    routes = [
        Route("/", feed),
        Route("/events", events),
        Route("/signals/{signal_id:path}", signal_detail),
        Route("/api/signals/{signal_id:path}", signal_json),
        Route("/leaderboard", leaderboard_page),
        Route("/leaderboard.csv", leaderboard_csv),
        Route("/model", model_page),
        Route("/api/model", model_json),
        Route("/backtests", backtests),
        Route("/backtests/{name:path}", backtest_report),
        Route("/login", login_form),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/actions/{action}", action, methods=["POST"]),
        Route("/healthz", health),
        Mount("/static", StaticFiles(packages=[("board", "static")]), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(SecurityHeaders)
    return app


def _change(name: str, value: str) -> Callable[[ModelRegistry], ModelUpdate] | None:
    """The registry call behind an action: the same the CLI's command makes."""
    if name == "mode" and value in MODES:
        return lambda reg: reg.mode_update(value)
    if name == "rollback":
        return lambda reg: reg.rollback()
    if name == "shadow":
        return lambda reg: reg.set_shadow(value or None)
    return None


def _versions(registry_dir: Path) -> list[str]:
    try:
        return [v.version for v in ModelRegistry(registry_dir).versions()]
    except RegistryError:
        return []


def _sort_key(value: Any) -> Any:
    """None sorts below every value (descending: last)."""
    return (value is not None, value if value is not None else 0)


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()
