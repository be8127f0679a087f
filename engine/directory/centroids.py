"""Approximate centroids (latitude, longitude) of the postal codes the demo directory and
demo clients use. A hospital loads its own area's table; an unknown code has no distance."""

from __future__ import annotations

import math

CENTROIDS: dict[str, tuple[float, float]] = {
    "02115": (42.343, -71.092),
    "02118": (42.336, -71.073),
    "02119": (42.324, -71.085),
    "02120": (42.332, -71.096),
    "02121": (42.307, -71.082),
    "02124": (42.286, -71.070),
    "02125": (42.315, -71.058),
    "02130": (42.309, -71.114),
    "02139": (42.364, -71.104),
    "02143": (42.381, -71.100),
}
EARTH_RADIUS_KM = 6371.0


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle (haversine) distance."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def centroid(postal_code: str | None) -> tuple[float, float] | None:
    return CENTROIDS.get(postal_code.strip()) if postal_code else None
