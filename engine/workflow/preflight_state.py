"""What one pre-flight run knows and reports: the base of the check classes.

The checks are split by concern into `preflight_*` modules as classes that all derive from
`PreflightState`, so each reads and reports through the same run; `preflight._Preflight`
puts them together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

from engine.workflow.bpmn_elements import owner_of
from engine.workflow.parsing import Document, Problem

SourceMode = Literal["eval", "exec"]
ExpressionChecker = Callable[[str, SourceMode], str | None]


@dataclass(eq=False)
class Process:
    id: str
    doc: Document
    node: Any
    executable: bool
    deployed: bool  # defined in `files` (not only in the library)


@dataclass
class Forms:
    raw: Mapping[str, bytes]
    values: dict[str, Any] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)

    def key_for(self, filename: str) -> str | None:
        if filename in self.raw:
            return filename
        # Tolerate "forms/intake.schema.json" on either side: the directory is flat.
        base = PurePosixPath(filename).name
        matches = sorted(k for k in self.raw if PurePosixPath(k).name == base)
        return matches[0] if matches else None


class PreflightState:
    def __init__(
        self,
        files: Mapping[str, bytes],
        library: Mapping[str, bytes],
        forms: Mapping[str, bytes],
        known_roles: frozenset[str],
        check: ExpressionChecker,
    ) -> None:
        self.files = files
        self.library = library
        self.forms = Forms(forms)
        self.known_roles = known_roles
        self.check = check
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.docs: dict[str, Document] = {}
        self.library_docs: dict[str, Document] = {}
        self.unreadable_library: list[str] = []
        self.processes: dict[str, Process] = {}
        self.decisions: dict[str, Document] = {}
        self.schema_ok: dict[str, bool] = {}
        self.lane_maps: dict[str, dict[str, str | None]] = {}
        self.process_forms: dict[str, set[str]] = {}
        self.waits_memo: dict[str, bool] = {}

    # -- reporting -------------------------------------------------------------

    def problem(self, doc: Document, node: Any, message: str, *, at: Any = None) -> None:
        """Report against `node` (its id), at the line of `at` (default: `node`)."""
        owner = owner_of(node) if node is not None else None
        line_node = at if at is not None else node
        self.problems.append(
            Problem(
                doc.name,
                owner.get("id") if owner is not None else None,
                line_node.sourceline if line_node is not None else None,
                message,
            )
        )

    def warn(self, doc: Document, node: Any, message: str) -> None:
        self.warnings.append(Problem(doc.name, node.get("id"), node.sourceline, message))
