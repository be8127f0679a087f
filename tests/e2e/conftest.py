"""Browser tests: a real `carebridge serve` on a fresh SQLite file, driven by Playwright in
Debian's chromium (Playwright cannot download its own browser here).

CAREBRIDGE_E2E_URL=http://127.0.0.1:5000 runs them against a server you started yourself
(after `carebridge init --demo`, with CAREBRIDGE_DEMO_PASSWORD set) instead."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from engine.settings import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEMO_PASSWORD = (
    os.environ.get("CAREBRIDGE_DEMO_PASSWORD", "e2e-demo-password")
    if os.environ.get("CAREBRIDGE_E2E_URL")
    else "e2e-demo-password"
)
SHOTS = ROOT / "artifacts" / "screenshots"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: drives a real browser against a real server")


def _carebridge() -> str:
    for candidate in (
        ROOT / ".venv" / "bin" / "carebridge",
        Path(sys.executable).parent / "carebridge",
    ):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("carebridge")
    if found is None:
        pytest.skip("the carebridge console script is not installed")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (our own server)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def server_environment(tmp: Path) -> dict[str, str]:
    """The environment of a test server on its own SQLite file in `tmp` (and of the CLI
    commands that must reach its database)."""
    return {
        **os.environ,
        "CAREBRIDGE_DATABASE_URL": f"sqlite:///{tmp / 'e2e.sqlite3'}",
        "CAREBRIDGE_DEMO_PASSWORD": DEMO_PASSWORD,
        "CAREBRIDGE_SCHEDULER": "embedded",
        "CAREBRIDGE_SECRET_KEY": "e2e-secret-key",
        # Plain http on loopback: a Secure cookie would never come back.
        "CAREBRIDGE_SECURE_COOKIES": "0",
        # The checkout itself first: the server must run this tree's code.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


@contextmanager
def running_server(tmp: Path) -> Iterator[str]:
    """`carebridge init --demo` then `carebridge serve` on a free port, in `tmp`; the base URL.
    Stopped on exit."""
    env = server_environment(tmp)
    script = _carebridge()
    init = subprocess.run(
        [script, "init", "--demo"], env=env, cwd=tmp, capture_output=True, text=True, timeout=180
    )
    assert init.returncode == 0, f"carebridge init --demo failed:\n{init.stdout}\n{init.stderr}"
    port = _free_port()
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen(
        [script, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not (_answers(f"{base}/healthz") or _answers(f"{base}/login")):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"carebridge serve did not start:\n{(tmp / 'serve.log').read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server for the browser tests: the base URL (CAREBRIDGE_E2E_URL, or one started)."""
    if os.environ.get("CAREBRIDGE_E2E_URL"):
        yield os.environ["CAREBRIDGE_E2E_URL"].rstrip("/")
        return
    with running_server(tmp_path_factory.mktemp("e2e")) as base:
        yield base


def create_token(tmp: Path, username: str) -> str:
    """`carebridge token create USERNAME` against the server started in `tmp`."""
    created = subprocess.run(
        [_carebridge(), "token", "create", username, "--name", "e2e"],
        env=server_environment(tmp),
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, f"token create failed:\n{created.stdout}\n{created.stderr}"
    return created.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def sign_in(server: str, browser: Any) -> Iterator[Callable[[str], Any]]:
    """sign_in(username) -> a page signed in as that demo user, in its own browser context."""
    contexts: list[Any] = []

    def open_as(username: str) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        # Social workers land on their caseload, everyone else on the inbox.
        page.wait_for_url(re.compile(rf"^{re.escape(server)}/(caseload)?$"))
        return page

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def shoot() -> Callable[[Any, str], None]:
    """shoot(page, name): a full-page screenshot under artifacts/screenshots/ (git-ignored)."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    return take
