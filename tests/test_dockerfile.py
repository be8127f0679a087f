"""The Dockerfile cannot be built on this machine, so check what can be checked: it installs
from the same lock files as the Makefile, runs as a non-root user, and its commands exist."""

from __future__ import annotations

import importlib
import re
import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.settings import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in _instructions():
        if keyword == "FROM":
            stages.append([])
        stages[-1].append((keyword, args))
    return stages


def _runs(stage: list[tuple[str, str]]) -> str:
    return " && ".join(args for keyword, args in stage if keyword == "RUN")


def test_two_stages_node_then_slim_python() -> None:
    node, python = _stages()
    assert re.match(r"node:20\S* AS assets", node[0][1])
    assert python[0][1].startswith("python:3.11-slim")


def test_assets_come_from_the_npm_lock_file_like_the_makefile() -> None:
    node = _stages()[0]
    copied = " ".join(args for keyword, args in node if keyword == "COPY")
    assert "web/package-lock.json" in copied
    assert "npm ci" in _runs(node)
    assert "npm ci" in (ROOT / "scripts" / "build_assets.sh").read_text()
    assert "package-lock.json" in (ROOT / "Makefile").read_text()
    assert (ROOT / "web" / "package-lock.json").is_file()
    assert "bpmn-navigated-viewer.production.min.js" in _runs(node)


def test_python_packages_come_from_constraints_like_the_makefile() -> None:
    runs = _runs(_stages()[1])
    assert "pip install -c constraints.txt -e ." in runs
    assert re.search(r"pip install .*-c constraints\.txt", (ROOT / "Makefile").read_text())
    pins = (ROOT / "constraints.txt").read_text().lower()
    for package in ("gunicorn==", "flask==", "psycopg==", "spiffworkflow=="):
        assert package in pins


def test_the_code_is_installed_once_and_runs_from_the_copied_tree() -> None:
    python = _stages()[1]
    installs = [args for keyword, args in python if keyword == "RUN" and "pip install" in args]
    assert len(installs) == 1
    assert "pip install -c constraints.txt -e ." in _runs(python)  # editable: no second copy
    env = " ".join(args for keyword, args in python if keyword == "ENV")
    assert "PYTHONPATH" not in env


def test_one_healthcheck_probes_what_each_command_needs() -> None:
    from cli.main import main

    [check] = [args for keyword, args in _stages()[1] if keyword == "HEALTHCHECK"]
    assert check.split("CMD", 1)[1].strip() == '["carebridge", "healthcheck"]'
    for command in (["healthcheck", "--help"], ["scheduler", "--help"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 0, result.output
    assert "--check" in CliRunner().invoke(main, ["scheduler", "--help"]).output


def test_the_image_runs_as_a_non_root_user() -> None:
    users = [args for keyword, args in _stages()[1] if keyword == "USER"]
    assert users, "the runtime stage must switch user"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert "useradd" in _runs(_stages()[1])


def test_every_copied_path_exists() -> None:
    for stage in _stages():
        for keyword, args in stage:
            if keyword != "COPY" or args.startswith("--from"):
                continue
            for source in shlex.split(args)[:-1]:
                assert (ROOT / source).exists(), source


def test_the_default_command_is_gunicorn_serving_the_wsgi_app() -> None:
    [cmd] = [args for keyword, args in _stages()[1] if keyword == "CMD"]
    assert cmd.startswith('["gunicorn"')
    assert '"web.wsgi:app"' in cmd
    assert (ROOT / "web" / "wsgi.py").is_file()


@pytest.mark.parametrize("command", ["scheduler", "init"])
def test_documented_commands_exist(command) -> None:
    from cli.main import main

    assert f"IMAGE carebridge {command}" in DOCKERFILE.read_text()
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0, result.output


def test_the_dockerignore_keeps_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "var", "web/node_modules", "web/static/vendor"} <= ignored


def _import_wsgi():
    sys.modules.pop("web.wsgi", None)
    return importlib.import_module("web.wsgi")


def test_wsgi_module_builds_the_app(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CAREBRIDGE_SECRET_KEY", "a-shared-key")
    monkeypatch.setenv("CAREBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    module = _import_wsgi()
    assert module.app.config["SECRET_KEY"] == "a-shared-key"
    assert "pages.inbox" in module.app.view_functions


def test_wsgi_workers_share_the_installs_kept_secret(monkeypatch, tmp_path: Path) -> None:
    from engine import settings

    monkeypatch.delenv("CAREBRIDGE_SECRET_KEY", raising=False)
    monkeypatch.setenv("CAREBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setattr(settings, "SECRET_FILE", tmp_path / "secret-key")
    first = _import_wsgi().app.config["SECRET_KEY"]
    assert _import_wsgi().app.config["SECRET_KEY"] == first  # a second worker signs alike
