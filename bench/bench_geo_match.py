#!/usr/bin/env python3
"""Benchmark geo.match_areas: 1,000,000 random circle subscriptions over Serbia.

Fixed seed; prints one line per measurement (best of N wall-clock runs).
Target: <= 0.3 s for 1M circles vs one district (RS-06 Južnobački).

    .venv/bin/python bench/bench_geo_match.py [--n 1000000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo import SubscriptionAreas, default_catalogue, match_areas, parse_area

SEED = 20261123


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of circle subscriptions")
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement (best is reported)")
    args = parser.parse_args(argv)

    catalogue = default_catalogue()
    rng = np.random.default_rng(SEED)
    min_lon, min_lat, max_lon, max_lat = catalogue.bounds
    lat = rng.uniform(min_lat, max_lat, args.n)
    lon = rng.uniform(min_lon, max_lon, args.n)
    radius_km = rng.uniform(0.5, 20.0, args.n)

    start = time.perf_counter()
    subs = SubscriptionAreas.build(catalogue, circle_ids=np.arange(args.n), lat=lat, lon=lon, radius_km=radius_km)
    print(f"build SubscriptionAreas ({args.n:,} circles): {time.perf_counter() - start:.3f} s (once)")

    alerts = {
        "district RS-06 Južnobački": {"regions": ["RS-06"]},
        "district RS-00 Grad Beograd": {"regions": ["RS-00"]},
        "10 km circle at Belgrade": {"circle": {"lat": 44.8125, "lon": 20.4612, "radius_km": 10}},
        "polygon (20-vertex, ~40 km)": {
            "polygon": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [
                            round(21.0 + 0.25 * np.cos(a) * (1 + 0.3 * (i % 2)), 6),
                            round(44.0 + 0.18 * np.sin(a) * (1 + 0.3 * (i % 2)), 6),
                        ]
                        for i, a in enumerate(np.linspace(0, 2 * np.pi, 20, endpoint=False))
                    ]
                ],
            }
        },
        "all 30 regions (whole catalogue)": {"regions": list(catalogue.codes())},
    }
    ring = alerts["polygon (20-vertex, ~40 km)"]["polygon"]["coordinates"][0]
    ring.append(ring[0])

    for label, spec in alerts.items():
        parse_time, area = best_of(args.repeat, lambda spec=spec: parse_area(spec, catalogue))
        match_time, mask = best_of(args.repeat, lambda area=area: match_areas(area, subs))
        print(
            f"match {args.n:,} circles vs {label}: {match_time:.4f} s best of {args.repeat} "
            f"({int(mask.sum()):,} matched; parse_area {parse_time * 1000:.1f} ms)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
