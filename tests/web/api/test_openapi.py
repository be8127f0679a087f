"""The OpenAPI document matches the app's routes, both ways."""

from __future__ import annotations

import re

import pytest

from web.api.openapi import DOCUMENT

DOCUMENTED_ROOTS = ("/api/v1", "/healthz", "/metrics")


def _app_operations(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    ops = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(DOCUMENTED_ROOTS):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        ops |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return ops


def _document_operations(doc) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(path, method) for path, item in doc["paths"].items() for method in item}


def test_every_route_is_documented(app):
    missing = _app_operations(app) - _document_operations(DOCUMENT)
    assert not missing, f"routes missing from the OpenAPI document: {sorted(missing)}"


def test_every_documented_operation_exists(app):
    extra = _document_operations(DOCUMENT) - _app_operations(app)
    assert not extra, f"documented but not routed: {sorted(extra)}"


def test_served_document_is_openapi_3_1(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert _document_operations(doc) == _document_operations(DOCUMENT)


def _refs(node):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_resolves():
    for ref in set(_refs(DOCUMENT)):
        node = DOCUMENT
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]


@pytest.mark.parametrize(("path", "item"), sorted(DOCUMENT["paths"].items()))
def test_path_parameters_are_declared(path, item):
    names = set(re.findall(r"{(\w+)}", path))
    for op in item.values():
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == names


def test_error_responses_use_the_error_schema():
    schema = DOCUMENT["components"]["schemas"]["Error"]
    assert schema["properties"]["error"]["required"] == ["code", "message", "details"]
    for op in (op for item in DOCUMENT["paths"].values() for op in item.values()):
        for status, response in op["responses"].items():
            if status.startswith("4"):
                assert response["$ref"].startswith("#/components/responses/")
