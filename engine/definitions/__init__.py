from engine.definitions.models import ProcessCurrentVersion, ProcessDefinition, ProcessDraft
from engine.definitions.services import (
    DefinitionSummary,
    DeployResult,
    deploy,
    deploy_directory,
    get_definition,
    latest_definition,
    list_definitions,
    read_diagrams,
    read_forms,
    specs_for,
)

__all__ = [
    "DefinitionSummary",
    "DeployResult",
    "ProcessCurrentVersion",
    "ProcessDefinition",
    "ProcessDraft",
    "deploy",
    "deploy_directory",
    "get_definition",
    "latest_definition",
    "list_definitions",
    "read_diagrams",
    "read_forms",
    "specs_for",
]
