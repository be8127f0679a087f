"""The community resource directory (Open Referral HSDS 3.0): import, search."""

from engine.directory.centroids import CENTROIDS, centroid, distance_km
from engine.directory.importer import ImportReport, Refusal, import_package
from engine.directory.models import (
    Location,
    Organization,
    Phone,
    Schedule,
    ServiceArea,
    ServiceAtLocation,
    ServiceTaxonomy,
    TaxonomyTerm,
)
from engine.directory.needs import NEEDS, canonical, need_of_term
from engine.directory.package import Package, Row, read_package
from engine.directory.search import Details, Match, details_for, open_at, search

__all__ = [
    "CENTROIDS",
    "NEEDS",
    "Details",
    "ImportReport",
    "Location",
    "Match",
    "Organization",
    "Package",
    "Phone",
    "Refusal",
    "Row",
    "Schedule",
    "ServiceArea",
    "ServiceAtLocation",
    "ServiceTaxonomy",
    "TaxonomyTerm",
    "canonical",
    "centroid",
    "details_for",
    "distance_km",
    "import_package",
    "need_of_term",
    "open_at",
    "read_package",
    "search",
]
