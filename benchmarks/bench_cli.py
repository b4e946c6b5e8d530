"""How fast the command line starts: ``statetech --help`` and ``statetech stats`` on the shipped seeds.

    python benchmarks/bench_cli.py [--runs 15]

Each command runs ``--runs`` times as a fresh process (the console script's interpreter); the median wall time and the
median CPU time (user + system, which other load on the machine inflates less) are printed. Targets: --help under
0.2 s, stats on the seeds (embedded store, a temporary file) under 0.5 s.

Baselines from the same run: a bare ``python -c pass`` (the interpreter's own start, the floor), and importing what
the CLI imported eagerly before it loaded commands lazily (the library with pydantic's record classes, every command
module and the loaders). ``python -X importtime`` then shows the slowest imports left on the --help path.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import load_average

PYTHON = sys.executable
STATETECH = shutil.which("statetech", path=str(Path(PYTHON).parent)) or "statetech"
# What `import statetech.cli.main` loaded before the commands became lazy.
EAGER_BEFORE = ("import statetech.graph.api, statetech.graph.model, statetech.graph.catalog, statetech.cli.query, "
                "statetech.cli.explore, statetech.cli.maps, statetech.cli.imports, statetech.loaders.curated, click")


def timed(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds of ``runs`` fresh processes."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return statistics.median(walls), statistics.median(cpus)


def slowest_imports(argv: list[str], env: dict[str, str], top: int = 6) -> list[tuple[int, str]]:
    done = subprocess.run([PYTHON, "-X", "importtime", *argv], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line.split("|")
            if not name.startswith("   "):  # top-level imports only: their cumulative time includes the rest
                rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"load average {load_average()}; {args.runs} runs each, medians")
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
        env["STATETECH_DB"] = str(Path(tmp) / "seeds.grafeo")
        subprocess.run([STATETECH, "load"], env=env, check=True, stdout=subprocess.DEVNULL)
        rows = [
            ("baseline: python -c pass", [PYTHON, "-c", "pass"], None),
            ("baseline: the imports the CLI made eagerly before", [PYTHON, "-c", EAGER_BEFORE], None),
            ("statetech --help", [STATETECH, "--help"], 0.2),
            ("statetech stats (seeds, embedded)", [STATETECH, "stats"], 0.5),
        ]
        print(f"{'command':52}{'wall s':>9}{'cpu s':>9}  target")
        for label, argv, target in rows:
            wall, cpu = timed(argv, args.runs, env)
            verdict = "" if target is None else f"< {target} s: {'met' if wall < target else 'NOT met'} (wall)"
            print(f"{label:52}{wall:9.3f}{cpu:9.3f}  {verdict}")
        print("slowest top-level imports of 'statetech --help' (cumulative ms):")
        for micros, name in slowest_imports(["-c", "import sys; sys.argv = ['statetech', '--help'];"
                                             "from statetech.cli.main import main; main()"], env):
            print(f"  {micros / 1000:8.1f}  {name}")
    print(f"load average {load_average()}")


if __name__ == "__main__":
    main()
