"""Run the benchmark: prints a table and writes var/bench.json.

Measures (instances per second of the main-process happy path with two units):
  spiff_memory       SpiffWorkflow alone, the workflow kept in memory between steps
  spiff_serializing  SpiffWorkflow alone, serialised to JSON and back between steps (the reference)
  engine_sqlite      Duban's service layer on SQLite: one transaction per step, projections, history
  engine_postgres    the same on PostgreSQL (when DUBAN_TEST_POSTGRES_URL is reachable)
  http               the same over HTTP against `duban run`'s web app (waitress, SQLite); http_complete_*
                     the wall time of its task completions (one client)
  load_*             8 concurrent clients on `duban serve` (one and two web processes), PostgreSQL and
                     Redis: paths/s and task completion p50/p95/p99 (bench/load.py)
  memory_*           a web process's memory with 10,000 live instances (bench/load.py)

Each of Duban's paths/s is measured in windows alternating with the reference's (`paired`), and its
ratio is to the reference measured in those same minutes: this VM's speed wanders by a third within
minutes, and ratios to one reference figure measured minutes earlier said 0.54× and 0.99× for the same
engine code within one hour.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from .spiff_alone import SpiffAlone

ROOT = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("DUBAN_BENCH_SECONDS", "4"))


def measure(run_once, seconds: float = SECONDS) -> float:
    """Instances per second: warm up once, then repeat for `seconds` (at least 3 runs)."""
    run_once()
    count, started = 0, time.perf_counter()
    while count < 3 or time.perf_counter() - started < seconds:
        run_once()
        count += 1
    return count / (time.perf_counter() - started)


def paired(run_once, reference, seconds: float = SECONDS, rounds: int = 4) -> tuple[float, float]:
    """Instances per second of `run_once` and of `reference`, each warmed up once and then run in
    `rounds` windows alternating with the other's (`seconds` in all for each, at least one run a window)."""
    run_once()
    reference()
    totals = {run_once: [0, 0.0], reference: [0, 0.0]}
    for _ in range(rounds):
        for run in (run_once, reference):
            count, started = 0, time.perf_counter()
            while count < 1 or time.perf_counter() - started < seconds / rounds:
                run()
                count += 1
            totals[run][0] += count
            totals[run][1] += time.perf_counter() - started
    return tuple(count / elapsed for count, elapsed in (totals[run_once], totals[reference]))


def main() -> int:
    from . import engine_paths, load

    results, references = {}, {}
    bpmn = ROOT / "bpmn" / "duban_main.bpmn"
    reference = SpiffAlone(bpmn, serialize=True).run_once
    results["spiff_memory"] = measure(SpiffAlone(bpmn, serialize=False).run_once)
    results["spiff_serializing"] = measure(reference)
    with engine_paths.engine_on_sqlite() as run_once:
        results["engine_sqlite"], references["engine_sqlite"] = paired(run_once, reference)
    postgres = os.environ.get("DUBAN_TEST_POSTGRES_URL")
    if postgres and engine_paths.reachable(postgres):
        with engine_paths.engine_on_postgres(postgres) as run_once:
            results["engine_postgres"], references["engine_postgres"] = paired(run_once, reference)
    with engine_paths.over_http() as run_once:
        results["http"], references["http"] = paired(run_once, reference)
    results.update(load.single_client(run_once.completions))
    results.update(engine_paths.extra_measures())
    results.update(load.extra_measures())
    return report(results, references)


def report(results: dict, references: dict) -> int:
    """The table, each paths/s figure against the reference measured alongside it (`references`), or
    against spiff_serializing's own figure."""
    print(f"{'measure':<28}{'value':>12}  unit          vs spiff_serializing (alongside)")
    out = {}
    for name, value in results.items():
        unit = "instances/s" if not isinstance(value, tuple) else value[1]
        number = value if not isinstance(value, tuple) else value[0]
        reference = references.get(name, results["spiff_serializing"])
        ratio = f"{number / reference:8.2f}x  ({reference:.2f}/s)" if unit == "instances/s" else ""
        print(f"{name:<28}{number:>12.2f}  {unit:<14}{ratio}")
        out[name] = {"value": round(number, 3), "unit": unit}
        if name in references:
            out[name]["reference"] = round(reference, 3)
            out[name]["ratio"] = round(number / reference, 3)
    target = ROOT / "var" / "bench.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"results": out}, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
