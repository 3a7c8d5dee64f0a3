"""Run every benchmark in turn (``make bench``); each prints its own figures."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
for script in ("bench_geo_match.py", "bench_import.py", "bench_dispatch.py", "bench_hostile_input.py"):
    print(f"== {script}", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], check=True)
