"""Import 100,000 CSV subscriber rows (SQLite by default; set ALERTSVC_BENCH_DATABASE_URL for PostgreSQL).

    .venv/bin/python bench/bench_import.py [ROWS]
"""

from __future__ import annotations

import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from alertsvc.db import make_engine
from alertsvc.migrate import upgrade
from alertsvc.runtime import build_runtime
from alertsvc.services.importer import import_csv
from alertsvc.settings import Settings

BENCH_SECRET = "bench-only-secret-key-0123456789-abcdefghij"  # PostgreSQL needs a configured key

def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rnd = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("ALERTSVC_BENCH_DATABASE_URL", f"sqlite:///{tmp}/bench.db")
        engine = make_engine(url)
        if url.startswith("postgresql"):
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade(engine)
        path = Path(tmp) / "subs.csv"
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["channel", "address", "language", "lat", "lon", "radius_km"])
            for i in range(rows):
                if i % 3:
                    w.writerow(["sms", f"+38164{i:07d}", "sr-Latn", f"{rnd.uniform(43.0, 45.5):.5f}",
                                f"{rnd.uniform(19.6, 22.0):.5f}", rnd.choice([1, 2, 5, 10])])
                else:
                    w.writerow(["email", f"user{i}@example.org", "en", f"{rnd.uniform(43.0, 45.5):.5f}",
                                f"{rnd.uniform(19.6, 22.0):.5f}", 5])
        rt = build_runtime(Settings().with_overrides({"database.url": url, "security.secret_key": BENCH_SECRET}),
                           engine=engine)
        t0 = time.perf_counter()
        with path.open(newline="") as fh:
            report = import_csv(rt, fh)
        took = time.perf_counter() - t0
        print(f"import {rows:,} CSV rows into {engine.dialect.name}: {took:.2f} s "
              f"({report.imported:,} imported, {report.rejected} rejected; {rows / took:,.0f} rows/s)")
        engine.dispose()


if __name__ == "__main__":
    main()
