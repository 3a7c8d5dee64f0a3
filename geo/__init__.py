"""Pure geographic library of alertsvc: areas, region catalogue, vectorised matching.

Only shapely 2, numpy and the standard library are used; nothing here touches
the web framework, the database or global mutable state.

Typical use::

    from geo import default_catalogue, parse_area, SubscriptionAreas, match_areas

    catalogue = default_catalogue()
    alert = parse_area({"regions": ["RS-06"]}, catalogue)
    subs = SubscriptionAreas.build(catalogue, circle_ids=ids, lat=lat, lon=lon, radius_km=r)
    mask = match_areas(alert, subs)          # aligned with subs.ids
"""

from .areas import (
    CIRCLE_SEGMENTS,
    KINDS,
    MAX_POLYGON_POSITIONS,
    MAX_RADIUS_KM,
    MAX_REGIONS,
    Area,
    AreaKind,
    Circle,
    parse_area,
)
from .errors import AreaError, CatalogueError, GeoError, Problem
from .matching import SubscriptionAreas, match_areas, subscriptions_matching
from .projection import MAX_RELATIVE_ERROR_SERBIA, TransverseMercator, haversine_m
from .regions import Region, RegionCatalogue, default_catalogue, load_catalogue

__all__ = [
    "CIRCLE_SEGMENTS",
    "KINDS",
    "MAX_POLYGON_POSITIONS",
    "MAX_RADIUS_KM",
    "MAX_REGIONS",
    "MAX_RELATIVE_ERROR_SERBIA",
    "Area",
    "AreaError",
    "AreaKind",
    "CatalogueError",
    "Circle",
    "GeoError",
    "Problem",
    "Region",
    "RegionCatalogue",
    "SubscriptionAreas",
    "TransverseMercator",
    "default_catalogue",
    "haversine_m",
    "load_catalogue",
    "match_areas",
    "parse_area",
    "subscriptions_matching",
]
