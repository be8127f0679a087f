"""The `carebridge` command, run in-process with click's runner on a file database of its own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from engine.demo import DEMO_CLIENTS

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "fixtures" / "bpmn"
ENGINE_FIXTURES = ROOT / "tests" / "fixtures" / "engine"

pytestmark = pytest.mark.skipif(
    os.environ.get("CAREBRIDGE_TEST_DATABASE", "sqlite") != "sqlite",
    reason="CLI runs on its own SQLite file; the PostgreSQL pass covers the engine",
)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CAREBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("CAREBRIDGE_DEMO_PASSWORD", "demo-pass-123")
    monkeypatch.setenv("CAREBRIDGE_AUDIT_ANCHOR_FILE", str(tmp_path / "anchors.jsonl"))
    return CliRunner()


def test_help_lists_every_command(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    for command in ("init", "deploy", "serve", "scheduler", "token", "demo", "audit", "oncall"):
        assert command in result.output


def test_init_creates_schema_and_deploys_shipped_diagrams(runner: CliRunner) -> None:
    result = runner.invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert "care_pathway v1: deployed" in result.output


def test_init_twice_is_idempotent(runner: CliRunner) -> None:
    runner.invoke(main, ["init"])
    result = runner.invoke(main, ["init"])
    assert "care_pathway v1: unchanged" in result.output


def test_init_demo_puts_every_demo_client_at_its_expected_step(runner: CliRunner) -> None:
    result = runner.invoke(main, ["init", "--demo"])
    assert result.exit_code == 0, result.output
    assert result.output.count("[as expected]") == len(DEMO_CLIENTS)
    assert "UNEXPECTED" not in result.output


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "several_faults.bpmn",
            ["several_faults.bpmn:5: [lane_volunteer]", "[flow_revisit]", "bare name"],
        ),
        ("malformed.bpmn", ["malformed.bpmn:6:", "malformed XML"]),
        ("bad_expressions.bpmn", ["bad_expressions.bpmn:"]),
    ],
)
def test_deploy_of_a_broken_diagram_names_file_element_and_line(
    runner: CliRunner, fixture: str, expected: list[str]
) -> None:
    runner.invoke(main, ["init"])
    result = runner.invoke(main, ["deploy", str(BROKEN / fixture)])
    assert result.exit_code == 1
    for text in expected:
        assert text in result.output


def test_deploy_refuses_a_script_that_imports_os(runner: CliRunner) -> None:
    runner.invoke(main, ["init"])
    result = runner.invoke(main, ["deploy", str(ENGINE_FIXTURES / "script_os.bpmn")])
    assert result.exit_code == 1
    assert (
        "[evil] script does not compile in the sandbox: line 1: import is not allowed"
        in result.output
    )


def test_deploy_of_a_valid_diagram_creates_version_one(runner: CliRunner) -> None:
    runner.invoke(main, ["init"])
    result = runner.invoke(main, ["deploy", str(ENGINE_FIXTURES / "timer_wait.bpmn")])
    assert result.exit_code == 0, result.output
    assert "timer_wait v1: deployed" in result.output


def test_token_create_prints_a_token_for_a_known_user(runner: CliRunner) -> None:
    runner.invoke(main, ["init", "--demo"])
    result = runner.invoke(main, ["token", "create", "alex"])
    assert result.exit_code == 0
    assert result.output.strip().startswith("cb_")


def test_token_create_for_an_unknown_user_fails(runner: CliRunner) -> None:
    runner.invoke(main, ["init"])
    result = runner.invoke(main, ["token", "create", "nobody"])
    assert result.exit_code != 0


def test_audit_verify_reports_an_intact_chain(runner: CliRunner) -> None:
    runner.invoke(main, ["init", "--demo"])
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 0
    assert "audit chain intact" in result.output


def test_rebuild_projections_keeps_every_demo_client_where_it_was(runner: CliRunner) -> None:
    runner.invoke(main, ["init", "--demo"])
    result = runner.invoke(main, ["rebuild-projections"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(main, ["demo"]).output.count("[as expected]") == len(DEMO_CLIENTS)
