"""Hospital integration: HL7 v2 ADT in over MLLP, FHIR R4 in and out."""

from engine.integration.errors_list import list_errors
from engine.integration.models import Admission, Consult, Hl7Message, IntegrationError

__all__ = ["Admission", "Consult", "Hl7Message", "IntegrationError", "list_errors"]
