"""Reading BPMN/DMN safely and turning it into SpiffWorkflow specs, cached by content.

User XML is parsed here, once, with entity resolution, DTD loading and network access off,
and any DOCTYPE is refused outright. SpiffWorkflow's own `add_bpmn_str` would use lxml's
default parser, which expands entities, so we always hand it trees we parsed ourselves.

Deploy-time validation is implemented in `preflight`; `prepare` here is its public door.
This module holds the shared types it reports with and what the runtime needs:
`load_specs` and `role_for_lane`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.errors import Invalid

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NSMAP = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
DMN_NAMESPACES = frozenset(DMN_SCHEMAS) | {
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20191111/MODEL/",
}

DEFAULT_ROLES: frozenset[str] = frozenset(
    {"social_worker", "nurse", "physician", "case_manager", "supervisor", "admin"}
)

# A diagram bigger than this is a mistake or an attack; bpmn-js output for a large
# pathway is well under 1 MiB.
MAX_FILE_BYTES = 5 * 1024 * 1024

_SHORT_NAMES = {f"{{{BPMN_NS}}}": "bpmn:", f"{{{SPIFF_NS}}}": "spiffworkflow:"} | {
    f"{{{ns}}}": "dmn:" for ns in DMN_NAMESPACES
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a deployment, pointing at a file, an element and a line."""

    file: str
    element_id: str | None
    line: int | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "element_id": self.element_id,
            "line": self.line,
            "message": self.message,
        }


class DeploymentInvalid(Invalid):
    """The diagrams (or their forms) cannot be deployed; `problems` lists every fault."""

    code = "invalid_definition"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"The definition cannot be deployed: {count} {noun} found.",
            details=[p.as_dict() for p in self.problems],
        )


@dataclass(frozen=True)
class ProcessBundle:
    """Everything one executable process needs, ready to be stored as a definition."""

    process_id: str
    name: str
    files: dict[str, str]
    forms: dict[str, Any]
    sha256: str
    warnings: list[Problem] = field(default_factory=list)


def prepare(
    files: Mapping[str, bytes],
    *,
    library: Mapping[str, bytes] = MappingProxyType({}),
    forms: Mapping[str, bytes] = MappingProxyType({}),
    known_roles: Collection[str] = DEFAULT_ROLES,
    check_expression: Callable[[str, str], str | None] | None = None,
) -> list[ProcessBundle]:
    """Validate diagrams and bundle each executable process defined in `files`; raises
    DeploymentInvalid listing every problem. See `preflight.prepare`."""
    # Imported here: preflight builds on this module.
    from engine.workflow.preflight import prepare as run_preflight

    return run_preflight(
        files,
        library=library,
        forms=forms,
        known_roles=known_roles,
        check_expression=check_expression,
    )


def bundle_digest(files: Mapping[str, str], forms: Mapping[str, Any]) -> str:
    """sha256 over a canonical form of the XML texts and parsed forms: key order and
    form whitespace do not matter, any change of content does."""
    canonical = json.dumps(
        {"files": dict(files), "forms": dict(forms)},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def role_for_lane(lane: str | None) -> str | None:
    """The role key a lane name stands for: "Social Worker", "social worker" and
    "SocialWorker" all give "social_worker". None for a missing or blank name.
    Whether the key is a known role is the caller's question."""
    if lane is None:
        return None
    text = lane.strip()
    # CamelCase boundaries first ("SocialWorker", "HTTPServer"), then separators.
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    key = re.sub(r"[\s\-_]+", "_", text).strip("_").lower()
    return key or None


def short_tag(text: str) -> str:
    """Replace Clark-notation namespaces in a message with the usual prefixes."""
    for long, short in _SHORT_NAMES.items():
        text = text.replace(long, short)
    return text


# ---------------------------------------------------------------- safe XML ---------


@dataclass(eq=False)
class Document:
    """One parsed BPMN or DMN file: its exact text and the tree we parsed from it."""

    name: str
    text: str
    root: Any  # lxml.etree._Element
    kind: Literal["bpmn", "dmn"]
    _ids: dict[str, Any] | None = field(default=None, repr=False)

    def element(self, element_id: str | None) -> Any | None:
        if not element_id:
            return None
        if self._ids is None:
            self._ids = {}
            for node in self.root.iter(etree.Element):
                node_id = node.get("id")
                if node_id is not None:
                    self._ids.setdefault(node_id, node)
        return self._ids.get(element_id)

    def line_of(self, element_id: str | None) -> int | None:
        node = self.element(element_id)
        return node.sourceline if node is not None else None


def _safe_parser() -> etree.XMLParser:
    # A new parser per document: lxml parsers keep per-parse state and are not meant to
    # be shared across threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )


_DECLARED_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")


def _as_utf8(data: bytes, encoding: str) -> bytes:
    """The document re-encoded as UTF-8, its declaration naming UTF-8 (lxml already accepted
    `encoding` for these bytes, so Python's codec of that name reads them)."""
    text = data.decode(encoding or "utf-8")
    text = text.lstrip("\ufeff")
    text = _DECLARED_ENCODING.sub(lambda m: f"{m.group(1)}{m.group(2)}UTF-8{m.group(2)}", text)
    return text.encode("utf-8")


_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_document(name: str, data: bytes) -> Document:
    """Parse one uploaded file, refusing DTDs, entities and anything but BPMN or DMN; any
    encoding its XML declaration names is read and the text kept as UTF-8. Raises
    DeploymentInvalid with a single problem."""

    def refuse(message: str, line: int | None = None) -> DeploymentInvalid:
        return DeploymentInvalid([Problem(name, None, line, message)])

    if len(data) > MAX_FILE_BYTES:
        raise refuse(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    # Refused before parsing at all: a DOCTYPE is how billion-laughs and XXE arrive, and
    # no diagram tool writes one.
    found = _DOCTYPE.search(data)
    if found is not None:
        line = data.count(b"\n", 0, found.start()) + 1
        raise refuse("DOCTYPE and ENTITY declarations are not allowed in diagrams", line)
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise refuse(f"malformed XML: {exc.msg}", exc.lineno or None) from None
    if root is None:
        raise refuse("the file is empty")
    docinfo = root.getroottree().docinfo
    # Catches a DOCTYPE in encodings the byte scan above cannot read (UTF-16, ...).
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise refuse("DOCTYPE and ENTITY declarations are not allowed in diagrams")
    encoding = (docinfo.encoding or "UTF-8").upper().replace("_", "-")
    if encoding not in {"UTF-8", "US-ASCII", "ASCII"}:
        # Other modelers save ISO-8859-1 or UTF-16: stored (and re-parsed) as UTF-8, the
        # declaration rewritten on its own line so every element keeps its line number.
        data = _as_utf8(data, docinfo.encoding)
        root = etree.fromstring(data, _safe_parser())
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise refuse(f"the file is not valid UTF-8: {exc.reason}") from None

    qname = etree.QName(root)
    if qname.localname == "definitions" and qname.namespace == BPMN_NS:
        kind: Literal["bpmn", "dmn"] = "bpmn"
    elif qname.localname == "definitions" and qname.namespace in DMN_NAMESPACES:
        kind = "dmn"
    else:
        raise refuse(
            f"not a BPMN or DMN document (root element {short_tag(str(root.tag))})", root.sourceline
        )
    return Document(name=name, text=text, root=root, kind=kind)


# ---------------------------------------------------------------- XSD --------------

_xsd_lock = threading.Lock()


@functools.lru_cache(maxsize=8)
def _dmn_schema(namespace: str) -> etree.XMLSchema | None:
    path = DMN_SCHEMAS.get(namespace)
    if path is None:
        return None
    with open(path, "rb") as xsd:
        return etree.XMLSchema(etree.parse(xsd, _safe_parser()))


def schema_problems(doc: Document) -> list[Problem]:
    """Every XSD error in the document (not only the first, as SpiffWorkflow reports)."""
    if doc.kind == "bpmn":
        schema = VALIDATOR.validator
        # Same rewrite SpiffWorkflow's validator does before validating: bpmn-js writes
        # correlation retrieval expressions the XSD does not accept.
        VALIDATOR.preprocess(doc.root)
    else:
        schema = _dmn_schema(etree.QName(doc.root).namespace or "")
        if schema is None:
            return []
    # The schema object keeps its error log between calls: one validation at a time.
    with _xsd_lock:
        if schema.validate(doc.root):
            return []
        errors = [(err.line, err.message) for err in schema.error_log]
    problems = []
    for line, message in errors:
        problems.append(
            Problem(
                doc.name, _id_at_line(doc, line), line or None, f"not valid: {short_tag(message)}"
            )
        )
    return problems


def _id_at_line(doc: Document, line: int | None) -> str | None:
    if not line:
        return None
    for node in doc.root.iter(etree.Element):
        if node.sourceline == line and node.get("id"):
            return node.get("id")
    return None


# ---------------------------------------------------------------- specs ------------


def build_parser(documents: Iterable[Document]) -> SpiffBpmnParser:
    """A SpiffWorkflow parser loaded with our own (safely parsed) trees. No XSD validation
    here: preflight validates once, at deploy time."""
    parser = SpiffBpmnParser()
    docs = list(documents)
    for doc in docs:
        if doc.kind == "dmn":
            parser.add_dmn_xml(doc.root, filename=doc.name)
    for doc in docs:
        if doc.kind == "bpmn":
            parser.add_bpmn_xml(doc.root, filename=doc.name)
    return parser


def problem_from_spiff(exc: Exception, docs: Mapping[str, Document]) -> Problem:
    """Translate a SpiffWorkflow parse error. Its `line_number` is empty for element
    errors, so the line comes from the element with the reported id."""
    if not isinstance(exc, ValidationException):
        return Problem(
            next(iter(docs), ""), None, None, f"cannot be parsed: {type(exc).__name__}: {exc}"
        )
    element_id = exc.id or None
    doc = docs.get(exc.file_name) if exc.file_name else None
    if doc is None and element_id:
        doc = next((d for d in docs.values() if d.element(element_id) is not None), None)
    file = doc.name if doc is not None else (exc.file_name or next(iter(docs), ""))
    line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number else None
    if line is None and doc is not None:
        line = doc.line_of(element_id)
    # str(exc) appends the notes after ". "; the bare message is args[0].
    message = str(exc.args[0]) if exc.args else str(exc)
    return Problem(file, element_id, line, readable_message(message, doc, element_id))


_ELEMENT_REPR = re.compile(r"<Element (\S+) at 0x[0-9a-fA-F]+>")
_UNRESOLVED = re.compile(r"^Cannot resolve data(Input|Output)Association\b")


def readable_message(message: str, doc: Document | None, element_id: str | None) -> str:
    """SpiffWorkflow formats some lxml elements into its messages (`<Element ... at 0x...>`):
    name what the element refers to instead, or at least its tag."""
    unresolved = _UNRESOLVED.match(message)
    node = doc.element(element_id) if doc is not None else None
    if unresolved is not None and node is not None:
        ref = "sourceRef" if unresolved.group(1) == "Input" else "targetRef"
        names = [
            (r.text or "").strip()
            for r in node.iterfind(f".//{{{BPMN_NS}}}{ref}")
            if (r.text or "").strip()
        ]
        kind = "input" if ref == "sourceRef" else "output"
        target = ", ".join(repr(n) for n in names) or "(empty)"
        return (
            f"the data {kind} association refers to {target}, which is no data object or "
            "data store reference in this process"
        )
    return _ELEMENT_REPR.sub(lambda m: short_tag(m.group(1)), message)


@dataclass(frozen=True, eq=False)
class _SpecKey:
    """Hashes and compares by content digest only; carries the files for a cache miss."""

    digest: str
    files: tuple[tuple[str, str], ...]

    def __hash__(self) -> int:
        return hash(self.digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SpecKey) and other.digest == self.digest


def load_specs(
    bundle_files: Mapping[str, str], process_id: str
) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    """Parse a bundle's files and return (spec, subprocess_specs) for `process_id`.

    Cached by content: the same files give the same (shared) objects, so treat them as
    read-only. Raises DeploymentInvalid if the files do not parse (they did at deploy)."""
    files = tuple(sorted(bundle_files.items()))
    digest = hashlib.sha256(
        json.dumps(files, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    ).hexdigest()
    return _load_specs(_SpecKey(digest, files), process_id)


@functools.lru_cache(maxsize=256)
def _load_specs(
    key: _SpecKey, process_id: str
) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    docs = {name: parse_document(name, text.encode("utf-8")) for name, text in key.files}
    try:
        parser = build_parser(docs.values())
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except Exception as exc:  # SpiffWorkflow raises plain exceptions too (KeyError, ...)
        raise DeploymentInvalid([problem_from_spiff(exc, docs)]) from exc
    return spec, subprocess_specs


def clear_spec_cache() -> None:
    _load_specs.cache_clear()
