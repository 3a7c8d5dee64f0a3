"""Independent reference implementations used by the geo tests.

Kept deliberately simple (plain loops / textbook formulas) so that they can
serve as an oracle for the vectorised code in :mod:`geo`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_B = WGS84_A * (1 - WGS84_F)


def vincenty_m(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> NDArray[np.float64]:
    """Vincenty's inverse formula on the WGS84 ellipsoid (metres, vectorised).

    Converges for all non-antipodal pairs, which is all we need (Serbia).
    """
    a, b, f = WGS84_A, WGS84_B, WGS84_F
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    big_l = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    u1 = np.arctan((1 - f) * np.tan(phi1))
    u2 = np.arctan((1 - f) * np.tan(phi2))
    sin_u1, cos_u1, sin_u2, cos_u2 = np.sin(u1), np.cos(u1), np.sin(u2), np.cos(u2)
    lam = big_l
    for _ in range(200):
        sin_l, cos_l = np.sin(lam), np.cos(lam)
        sin_s = np.hypot(cos_u2 * sin_l, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_l)
        cos_s = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_l
        sigma = np.arctan2(sin_s, cos_s)
        safe_sin_s = np.where(sin_s == 0, 1.0, sin_s)
        sin_alpha = cos_u1 * cos_u2 * sin_l / safe_sin_s
        cos2_alpha = 1 - sin_alpha**2
        safe_cos2 = np.where(cos2_alpha == 0, 1.0, cos2_alpha)
        cos_2sm = np.where(cos2_alpha == 0, 0.0, cos_s - 2 * sin_u1 * sin_u2 / safe_cos2)
        c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha))
        lam_new = big_l + (1 - c) * f * sin_alpha * (
            sigma + c * sin_s * (cos_2sm + c * cos_s * (-1 + 2 * cos_2sm**2))
        )
        done = np.all(np.abs(lam_new - lam) < 1e-13)
        lam = lam_new
        if done:
            break
    u_sq = cos2_alpha * (a * a - b * b) / (b * b)
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    d_sigma = big_b * sin_s * (
        cos_2sm
        + big_b / 4 * (
            cos_s * (-1 + 2 * cos_2sm**2)
            - big_b / 6 * cos_2sm * (-3 + 4 * sin_s**2) * (-3 + 4 * cos_2sm**2)
        )
    )
    return np.where(sin_s == 0, 0.0, b * big_a * (sigma - d_sigma))


# -- synthetic catalogue ---------------------------------------------------------


def grid_catalogue(cols: int = 3, rows: int = 3, size: float = 0.5, lon0: float = 20.0, lat0: float = 44.0):
    """Square regions "G-<row><col>" sharing exact borders (a perfect partition)."""
    import shapely

    from geo import Region, RegionCatalogue

    regions = []
    for r in range(rows):
        for c in range(cols):
            x, y = lon0 + c * size, lat0 + r * size
            regions.append(
                Region(code=f"G-{r}{c}", name=f"Grid {r}{c}", names={"en": f"Grid {r}{c}"},
                       geometry=shapely.box(x, y, x + size, y + size))
            )
    return RegionCatalogue.from_regions(regions, name="Grid")


# -- reference matcher -------------------------------------------------------------

TIE_BAND_M = 1e-6
"""Cases whose distance is within 1 µm of the radius are ties: either answer is accepted."""


def reference_match(alert, subs, catalogue):
    """Plain per-subscriber loop.  ``subs`` is a list of ``("circle", lat, lon, r_km)`` or
    ``("regions", codes)``.  Returns a list of (expected: bool, is_tie: bool)."""
    import math

    import shapely

    proj = catalogue.projection
    out = []
    for sub in subs:
        if sub[0] == "circle":
            _, lat, lon, r_km = sub
            x, y = (float(v) for v in proj.project(lon, lat))
            point = shapely.Point(x, y)
            r = r_km * 1000.0
            if alert.kind == "circle":
                ax, ay = (float(v) for v in proj.project(alert.circle.lon, alert.circle.lat))
                d = math.hypot(x - ax, y - ay)
                r = r + alert.circle.radius_m
            elif alert.kind == "regions":
                d = min(catalogue.metric_geometry(code).distance(point) for code in alert.regions)
            else:
                d = proj.to_metric(alert.geometry).distance(point)
            out.append((d <= r, abs(d - r) <= TIE_BAND_M))
        else:
            _, codes = sub
            sure, possible = False, False
            for code in codes:
                if alert.kind == "circle":
                    ax, ay = (float(v) for v in proj.project(alert.circle.lon, alert.circle.lat))
                    d = catalogue.metric_geometry(code).distance(shapely.Point(ax, ay))
                    r = alert.circle.radius_m
                    sure |= d < r - TIE_BAND_M
                    possible |= d <= r + TIE_BAND_M
                elif alert.kind == "regions":
                    sure |= code in alert.regions
                    possible |= code in alert.regions
                else:
                    hit = bool(catalogue[code].geometry.intersects(alert.geometry))
                    sure |= hit
                    possible |= hit
            out.append((sure, possible and not sure))
    return out
