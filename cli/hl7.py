"""`carebridge hl7 listen`: the MLLP listener for the hospital's ADT feed, in the foreground
or (CAREBRIDGE_HL7_PORT) as a thread of `carebridge scheduler`."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import click

from engine import accounts
from engine.calendar import Site
from engine.clock import Clock, SystemClock
from engine.integration import mllp


class ListenerThread:
    """The asyncio listener on its own thread and loop; stop() cancels it."""

    def __init__(
        self, sessions: Any, *, host: str, port: int, site: Site, clock: Clock | None = None
    ) -> None:
        self._args = (sessions, host, port, site)
        self._clock = clock or SystemClock()
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self.port = port
        self._thread = threading.Thread(target=self._run, name="hl7-listener", daemon=True)

    def _bound(self, port: int) -> None:
        self.port = port
        self._ready.set()

    def _run(self) -> None:
        sessions, host, port, site = self._args
        asyncio.set_event_loop(self._loop)
        self._task = self._loop.create_task(
            mllp.serve(
                sessions, host=host, port=port, clock=self._clock, site=site, started=self._bound
            )
        )
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._ready.set()
            self._loop.close()

    def start(self, timeout: float = 10.0) -> int:
        self._thread.start()
        self._ready.wait(timeout)
        return self.port

    def stop(self) -> None:
        if self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(10)


def register(main: click.Group, pass_env: Any) -> None:
    @main.group("hl7")
    def hl7_group() -> None:
        """HL7 v2 interfaces."""

    @hl7_group.command("listen")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=2575, show_default=True, type=int)
    @click.option(
        "--token",
        envvar="CAREBRIDGE_HL7_TOKEN",
        default=None,
        help="An integration token with the scope hl7: the listener refuses to start "
        "with any other (MLLP itself carries no credentials).",
    )
    @pass_env
    def listen(env: Any, host: str, port: int, token: str | None) -> None:
        """Receive ADT messages over MLLP; each is acknowledged after it is committed."""
        if token is not None:
            with env.transaction() as session:
                grant = accounts.grant_for_token(session, token, now=SystemClock().now())
            if grant is None or "hl7" not in grant.scopes:
                raise click.ClickException("that token is unknown, revoked or lacks the hl7 scope")
        click.echo(f"HL7 MLLP listener on {host}:{port}")
        try:
            asyncio.run(
                mllp.serve(env.sessions, host=host, port=port, clock=SystemClock(), site=env.site)
            )
        except KeyboardInterrupt:
            pass
