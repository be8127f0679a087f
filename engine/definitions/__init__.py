from engine.definitions.models import ProcessCurrentVersion, ProcessDefinition, ProcessDraft
from engine.definitions.pathways import CASE_PATHWAY_PROPERTY, is_case_pathway
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
    "CASE_PATHWAY_PROPERTY",
    "DefinitionSummary",
    "DeployResult",
    "ProcessCurrentVersion",
    "ProcessDefinition",
    "ProcessDraft",
    "deploy",
    "deploy_directory",
    "get_definition",
    "is_case_pathway",
    "latest_definition",
    "list_definitions",
    "read_diagrams",
    "read_forms",
    "specs_for",
]
