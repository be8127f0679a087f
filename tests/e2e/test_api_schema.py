"""The JSON API against its own document: a bounded Schemathesis run (every check: no server
error, status codes, content types, headers and bodies as documented, schema-valid input
accepted, schema-violating input refused, undeclared methods answered 405 with `Allow`)
against a real `carebridge serve` on its own database, with an admin API token.

Marked e2e like the browser tests: it runs in the SQLite pass (`make test`), not in the
PostgreSQL pass. CAREBRIDGE_SCHEMATHESIS_EXAMPLES and CAREBRIDGE_SCHEMATHESIS_SEED widen or
vary a run by hand; the defaults keep it deterministic and under a minute."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.settings import ROOT
from tests.e2e.conftest import create_token, running_server

pytestmark = pytest.mark.e2e

CONFIG = ROOT / "schemathesis.toml"
EXAMPLES = os.environ.get("CAREBRIDGE_SCHEMATHESIS_EXAMPLES", "5")
SEED = os.environ.get("CAREBRIDGE_SCHEMATHESIS_SEED", "20261201")


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """(base URL, admin token, working directory) of a server of this test's own: the run
    creates cases and resources that the browser tests must not see."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    with running_server(tmp) as base:
        yield base, create_token(tmp, "admin"), tmp


def test_the_api_answers_as_its_openapi_document_says(api_server: tuple[str, str, Path]) -> None:
    base, token, tmp = api_server
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(CONFIG),
            "run",
            f"{base}/api/v1/openapi.json",
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            EXAMPLES,
            "--seed",
            SEED,
            "--workers",
            "1",
            "--request-timeout",
            "20",
            "--generation-database",
            "none",
            "--no-color",
        ],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
