"""The web server of `llmops-console serve`: textual-serve's Server (aiohttp), with the token
checked on every request, the page's own addresses, and a stop that closes each viewer.

Who may in (a middleware, so the page, its static files and the websocket alike):
- with a token: `?token=` (the printed link), then a cookie the page sets for the websocket
  (HttpOnly, SameSite=Strict, one name per port), or `Authorization: Bearer`; compared with
  hmac.compare_digest. None: 401; a wrong one: 403.
- without (loopback only): the Host header must name a loopback address, so a page elsewhere
  that rebinds its own name to 127.0.0.1 gets 403.
- a websocket whose Origin is not this server's is refused (403) either way: browsers let any
  page open a websocket anywhere, and this one drives a console.

A spare console waits for the next viewer (SpareViewer): started ahead, its imports done
(Textual, numpy, SQLAlchemy: most of a console's start), it begins when a browser connects
and is told the browser's size; another spare is started a few seconds later.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import signal
import sys
from asyncio.subprocess import PIPE, Process
from types import SimpleNamespace
from typing import Awaitable, Callable, TextIO

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from console.commands.errors import UsageError
from console.commands.serve import (
    TOKEN_ENV, WARM_ENV, ServePlan, banner, is_loopback, viewer_command, viewer_environment,
)  # fmt: skip

TITLE = "llmops-console"
SPARE_AFTER_S = 5.0  # the next spare starts once the viewer that took one has drawn its screen
log = logging.getLogger("textual-serve")


class SpareViewer:
    """One console process started before anyone asks (console/ui/served.py, WARM_ENV): its
    imports done, it waits on stdin for the browser's size, then runs."""

    def __init__(self, command: str) -> None:
        self.command = command
        self._spare: Process | None = None
        self._closed = False
        self._refill: asyncio.Task | None = None

    async def start(self, delay: float = 0.0) -> None:
        await asyncio.sleep(delay)
        if self._closed or self._spare is not None:
            return
        # textual-serve's own environment for an app (its web driver, colours), plus ours
        environment = AppService._build_environment(SimpleNamespace(debug=False))  # type: ignore[arg-type]
        environment[WARM_ENV] = "1"
        self._spare = await asyncio.create_subprocess_shell(
            self.command, stdin=PIPE, stdout=PIPE, stderr=PIPE, env=environment
        )

    def take(self) -> Process | None:
        """The spare, if one is up (the next is started after SPARE_AFTER_S), else None."""
        spare, self._spare = self._spare, None
        if not self._closed and (self._refill is None or self._refill.done()):
            self._refill = asyncio.create_task(self.start(SPARE_AFTER_S))
        return spare if spare is not None and spare.returncode is None else None

    async def close(self) -> None:
        self._closed = True
        if self._refill is not None:
            self._refill.cancel()
        spare, self._spare = self._spare, None
        if spare is not None and spare.returncode is None:
            spare.stdin.close()  # end of input before a size: it exits without starting
            try:
                await asyncio.wait_for(spare.wait(), 10)
            except asyncio.TimeoutError:
                spare.kill()


class ViewerService(AppService):
    """textual-serve's app process for one browser, taken from the spare when there is one."""

    def __init__(self, *args, spare: Process | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.spare = spare

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        spare = self.spare
        if spare is None or spare.returncode is not None:
            return await super()._open_app_process(width, height)
        spare.stdin.write(f"{width} {height}\n".encode())  # console/ui/served.py reads it, then runs
        await spare.stdin.drain()
        self._process, self._stdin = spare, spare.stdin
        return spare


class ConsoleServer(Server):
    def __init__(self, command: str, host: str, port: int, token: str | None) -> None:
        super().__init__(command, host=host, port=port, title=TITLE)
        self.token = token
        self._viewers: set[asyncio.Task] = set()
        self.spare = SpareViewer(command)

    @property
    def cookie_name(self) -> str:
        return f"llmops_console_token_{self.port}"  # cookies ignore the port: two servers, two names

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
        refusal = self._refusal(request)
        if refusal is not None:
            status, text = refusal
            return web.Response(status=status, text=text + "\n", headers={"Cache-Control": "no-store"})
        response = await handler(request)
        if isinstance(response, web.Response) and not response.prepared:  # not the websocket
            response.headers["Referrer-Policy"] = "no-referrer"  # the link's token stays here
            if request.path == "/":
                response.headers["Cache-Control"] = "no-store"
                if self.token is not None and "token" in request.query:
                    response.set_cookie(self.cookie_name, self.token, httponly=True, samesite="Strict", path="/")
        return response

    def _refusal(self, request: web.Request) -> tuple[int, str] | None:
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin is not None and origin.partition("://")[2].lower() != request.host.lower():
            return 403, "refused: a websocket from another site"  # Origin and Host both omit a default port
        if self.token is None:
            if not is_loopback(host_name(request.host)):
                return 403, "refused: this console answers loopback addresses only (127.0.0.1, localhost)"
            return None
        offered = request.query.get("token") or request.cookies.get(self.cookie_name)
        bearer = request.headers.get("Authorization", "")
        if offered is None and bearer.startswith("Bearer "):
            offered = bearer[len("Bearer "):]
        if not offered:
            return 401, "a token is required: open the link `llmops-console serve` printed (it ends in ?token=...)"
        if not hmac.compare_digest(offered.encode("utf-8"), self.token.encode("utf-8")):
            return 403, "refused: wrong token"
        return None

    async def handle_index(self, request: web.Request) -> web.Response:
        # The page's websocket and static addresses are the ones the browser used (the
        # Server's public_url is fixed at start: 0.0.0.0 or port 0 would be wrong there).
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler, with the app process taken from the spare."""
        task = asyncio.current_task()
        if task is not None:
            self._viewers.add(task)
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _size(request.query.get("width"), 80)
        height = _size(request.query.get("height"), 24)
        viewer: ViewerService | None = None
        try:
            await websocket.prepare(request)
            viewer = ViewerService(
                self.command, write_bytes=websocket.send_bytes, write_str=websocket.send_str, close=websocket.close,
                download_manager=self.download_manager, debug=self.debug, spare=self.spare.take(),
            )  # fmt: skip
            await viewer.start(width, height)
            await self._process_messages(websocket, viewer)
        except asyncio.CancelledError:  # the server stops
            await websocket.close()
        except Exception as error:
            log.exception(error)
        finally:
            if viewer is not None:
                await viewer.stop()  # tells the console to quit and waits for it
            self._viewers.discard(task)
        return websocket

    async def on_startup(self, app: web.Application) -> None:
        """Quiet: serve.py prints the link once the socket is bound."""

    async def close_viewers(self) -> None:
        """Each viewer's console is told to quit (textual-serve does so when its websocket
        handler is cancelled) before the server stops: no console outlives it."""
        tasks = list(self._viewers)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.spare.close()


def host_name(host: str) -> str:
    """The name in a Host header: "[::1]:8000" is ::1, "127.0.0.1:8000" is 127.0.0.1 (not
    request.url.host: aiohttp 3.9 builds it with a yarl that refuses the port)."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _size(value: str | None, default: int) -> int:
    try:
        return max(1, min(int(value or default), 1000))
    except ValueError:
        return default


def run_server(command: str, host: str, port: int, token: str | None, on_bound: Callable[[int], None]) -> None:
    """Serve until SIGINT or SIGTERM; on_bound(port) once listening (port 0: the one chosen)."""
    asyncio.run(_serve(ConsoleServer(command, host, port, token), on_bound))


async def _serve(server: ConsoleServer, on_bound: Callable[[int], None]) -> None:
    runner = web.AppRunner(await server._make_app(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, server.host, server.port)
        await site.start()
        server.port = runner.addresses[0][1]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        on_bound(server.port)
        await server.spare.start()
        await stop.wait()
        await server.close_viewers()
    finally:
        await runner.cleanup()


def serve(plan: ServePlan, out: TextIO | None = None) -> None:
    """Serve until interrupted (Ctrl+C, SIGTERM)."""
    from sqlalchemy.engine import make_url

    from console.commands.config_access import load_config
    from console.store.engine import normalise_url

    out = out or sys.stdout
    load_config(plan.config, warn=True)  # a bad llmops.toml is told once here, not in each viewer
    os.environ.pop(TOKEN_ENV, None)  # the viewers inherit this environment
    os.environ.update(viewer_environment(plan))

    store_shown = make_url(normalise_url(plan.store_url)).render_as_string(hide_password=True)

    def bound(port: int) -> None:
        out.write("".join(line + "\n" for line in banner(plan, port, store_shown)))
        out.flush()

    try:
        run_server(viewer_command(), plan.host, plan.port, plan.token, on_bound=bound)
    except OSError as exc:
        raise UsageError(f"cannot listen on {plan.host}:{plan.port}: {exc.strerror or exc}") from None
