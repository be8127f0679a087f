from engine.definitions.models import ProcessDefinition
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
    "ProcessDefinition",
    "deploy",
    "deploy_directory",
    "get_definition",
    "latest_definition",
    "list_definitions",
    "read_diagrams",
    "read_forms",
    "specs_for",
]
