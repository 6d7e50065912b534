"""Run a sweep into a sweep directory that survives interruption.

Layout::

    SWEEP_DIR/sweep.yaml      the spec as run
    SWEEP_DIR/status.json     per point: state (pending | running | finished | diverged), run dir, final metrics
    SWEEP_DIR/runs/POINT/     one ordinary run directory per point (config.yaml, metrics.jsonl, checkpoints, ...)
    SWEEP_DIR/results.csv     one row per point: swept keys, seed, every metric, every config key
    SWEEP_DIR/results.jsonl   the same rows as JSON lines

Re-running the same sweep skips finished points and resumes started ones from their checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

from ganlab.config import diff
from ganlab.errors import GanlabError
from ganlab.io import atomic_write_json, atomic_write_text
from ganlab.sweep.expand import Point, expand
from ganlab.sweep.evaluation import evaluate_point, missing_metrics
from ganlab.sweep.results import Evaluator, point_metrics, result_rows, write_results
from ganlab.sweep.spec import SweepSpec, eval_settings, spec_to_dict
from ganlab.train import read_config
from ganlab.train.rundir import STATUS_FILE, RunDir

DONE_STATES = ("finished", "diverged")


@dataclass
class Job:
    point: Point
    run_dir: Path
    resume: bool  # continue from run_dir's checkpoint instead of starting afresh


OnStart = Callable[[Job], None]
OnDone = Callable[[Job, Optional[str]], None]  # (job, error message of a diverged run or None)


@dataclass
class SweepResult:
    sweep_dir: Path
    rows: list[dict[str, Any]]  # the results table
    trained: int  # points trained (or resumed) by this call
    skipped: int  # points already done before this call
    remaining: int  # points still not done (stopped early)


def read_status(sweep_dir: Path) -> dict[str, dict[str, Any]]:
    """Per-point status entries of a sweep directory (empty for a new sweep)."""
    import json

    path = sweep_dir / STATUS_FILE
    return json.loads(path.read_text())["points"] if path.is_file() else {}


def _plan(points: list[Point], entries: dict[str, dict[str, Any]], sweep_dir: Path,
          force: bool) -> tuple[list[Job], list[Point]]:
    """(jobs to run, points already done whose metrics must still be read)."""
    jobs, harvest = [], []
    for p in points:
        run_dir = sweep_dir / "runs" / p.id
        if RunDir(run_dir).is_run():
            changes = diff(read_config(run_dir), p.cfg)
            if changes and not force:
                raise GanlabError(f"point {p.id} in {sweep_dir} was run with another config ({'; '.join(changes)}); "
                                  f"use a new --out directory, or --force to retrain changed points")
            if changes:
                jobs.append(Job(p, run_dir, resume=False))
                continue
        state = entries.get(p.id, {}).get("state")
        if state in DONE_STATES:
            continue
        run_state = RunDir(run_dir).state()
        if run_state in DONE_STATES:
            harvest.append(p)  # trained, but the sweep stopped before recording it
        else:
            resume = run_state in ("running", "paused") and RunDir(run_dir).has_checkpoint()
            jobs.append(Job(p, run_dir, resume=resume))
    return jobs, harvest


def run_sweep(spec: SweepSpec, sweep_dir: str | Path, *, evaluator: Optional[Evaluator] = None,
              stop_after_points: Optional[int] = None, force: bool = False, progress: bool = False,
              ray_num_cpus: Optional[int] = None) -> SweepResult:
    """Train every point of ``spec`` not yet done into ``sweep_dir`` with the spec's backend.

    Each point, once finished, is evaluated with the spec's ``eval`` settings (``evaluate_point``: only the
    metrics its eval.json lacks, so changed settings re-evaluate finished points without retraining them); its
    metrics then come from ``point_metrics(run_dir, evaluator)`` and are kept in status.json; results.csv /
    results.jsonl are rewritten after every point.
    ``stop_after_points`` trains at most that many points this call (re-run to continue).
    """
    sweep_dir = Path(sweep_dir)
    points = expand(spec)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(sweep_dir / "sweep.yaml", yaml.safe_dump(spec_to_dict(spec), sort_keys=False))
    entries = read_status(sweep_dir)
    for p in points:
        entries.setdefault(p.id, {"state": "pending", "run_dir": str(Path("runs") / p.id)})

    def save_status(table: bool = True) -> None:
        atomic_write_json(sweep_dir / STATUS_FILE, {"points": entries})
        if table:
            write_results(sweep_dir, result_rows(points, entries, spec.swept_keys))

    settings = eval_settings(spec) if spec.eval else None

    def record(point: Point, error: Optional[str]) -> None:
        run_dir = sweep_dir / "runs" / point.id
        if settings is not None and error is None:
            evaluate_point(run_dir, settings)
        entries[point.id] = {"state": "diverged" if error else "finished", "run_dir": str(Path("runs") / point.id),
                             "metrics": point_metrics(run_dir, evaluator), **({"error": error} if error else {})}
        save_status()

    jobs, harvest = _plan(points, entries, sweep_dir, force)
    if settings is not None:  # finished points evaluated under other settings: evaluate them again, not retrain
        trained = {j.point.id for j in jobs}
        harvest += [p for p in points if p.id not in trained and p not in harvest
                    and entries[p.id]["state"] == "finished" and missing_metrics(sweep_dir / "runs" / p.id, settings)]
    skipped = len(points) - len(jobs)
    for p in harvest:
        record(p, None if RunDir(sweep_dir / "runs" / p.id).state() == "finished" else "diverged")
    if stop_after_points is not None:
        jobs = jobs[:max(0, stop_after_points)]

    def on_start(job: Job) -> None:
        entries[job.point.id]["state"] = "running"
        save_status(table=False)

    def on_done(job: Job, error: Optional[str]) -> None:
        record(job.point, error)

    save_status()
    if jobs:
        _backend(spec, ray_num_cpus)(jobs, on_start, on_done, progress)
    remaining = sum(1 for p in points if entries[p.id]["state"] not in DONE_STATES)
    return SweepResult(sweep_dir, result_rows(points, entries, spec.swept_keys), len(jobs), skipped, remaining)


def _backend(spec: SweepSpec, ray_num_cpus: Optional[int]) -> Callable[[list[Job], OnStart, OnDone, bool], None]:
    if spec.backend == "packed":
        from ganlab.sweep.packed import run_packed

        return lambda jobs, start, done, progress: run_packed(jobs, start, done, progress, spec.pack_size,
                                                              spec.pad_latent)
    if spec.backend == "ray":
        from ganlab.sweep.ray_backend import run_ray

        return lambda jobs, start, done, progress: run_ray(jobs, start, done, progress, spec.ray_address,
                                                           ray_num_cpus)
    from ganlab.sweep.sequential import run_sequential

    return run_sequential
