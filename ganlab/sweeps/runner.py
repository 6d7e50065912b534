"""Run a sweep into a sweep folder (``ganlab.folders.SweepDir``) that survives interruption.

Each point's run folder follows the one resume rule (``ganlab.training.rundir.plan_run``): re-running the same
sweep skips finished points and continues started ones from their checkpoints; a point whose config changed is
refused unless ``force``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from ganlab.devices import resolve_device
from ganlab.folders import SweepDir
from ganlab.io import atomic_write_json, atomic_write_text
from ganlab.sweeps.evaluation import evaluate_point, missing_metrics
from ganlab.sweeps.expand import Point, expand
from ganlab.sweeps.jobs import Backend, Job
from ganlab.sweeps.packed import run_packed
from ganlab.sweeps.parallel import run_parallel, worker_count
from ganlab.sweeps.ray_backend import run_ray
from ganlab.sweeps.results import Evaluator, point_metrics, result_rows, write_results
from ganlab.sweeps.sequential import run_sequential
from ganlab.sweeps.spec import SweepSpec, eval_settings, spec_to_dict
from ganlab.training.rundir import DONE_STATES, plan_run


@dataclass
class SweepResult:
    sweep_dir: Path
    rows: list[dict[str, Any]]  # the results table
    trained: int  # points trained (or resumed) by this call
    skipped: int  # points already done before this call
    remaining: int  # points still not done (stopped early)


def _plan(points: list[Point], entries: dict[str, dict[str, Any]], folders: SweepDir,
          force: bool) -> tuple[list[Job], list[Point]]:
    """(jobs to run, points already done whose metrics must still be recorded), by the one resume rule."""
    jobs, harvest = [], []
    for p in points:
        run_dir = folders.run(p.id).path
        plan = plan_run(run_dir, p.cfg, force=force)
        if plan.action != "skip":
            jobs.append(Job(p, run_dir, plan))
        elif entries.get(p.id, {}).get("state") not in DONE_STATES:
            harvest.append(p)  # trained, but the sweep stopped before recording it
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
    folders = SweepDir(sweep_dir)
    points = expand(spec)
    folders.path.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folders.spec, yaml.safe_dump(spec_to_dict(spec), sort_keys=False))
    entries = folders.read_points()

    def entry(point: Point, state: str, **extra: Any) -> dict[str, Any]:
        return {"state": state, "run_dir": folders.relative_run(point.id), "values": point.values,
                "seed": point.seed, **extra}

    for p in points:
        entries[p.id] = {**entry(p, "pending"), **entries.get(p.id, {}), "values": p.values, "seed": p.seed}

    def save_status(table: bool = True) -> None:
        atomic_write_json(folders.status, {"points": entries})
        if table:
            write_results(folders, result_rows(points, entries, spec.swept_keys))

    settings = eval_settings(spec) if spec.eval else None

    def record(point: Point, error: Optional[str]) -> None:
        run_dir = folders.run(point.id).path
        if settings is not None and error is None:
            evaluate_point(run_dir, settings)
        entries[point.id] = entry(point, "diverged" if error else "finished",
                                  metrics=point_metrics(run_dir, evaluator), **({"error": error} if error else {}))
        save_status()

    jobs, harvest = _plan(points, entries, folders, force)
    if settings is not None:  # finished points evaluated under other settings: evaluate them again, not retrain
        trained = {j.point.id for j in jobs}
        harvest += [p for p in points if p.id not in trained and p not in harvest
                    and entries[p.id]["state"] == "finished" and missing_metrics(folders.run(p.id).path, settings)]
    skipped = len(points) - len(jobs)
    for p in harvest:
        record(p, None if folders.run(p.id).state() == "finished" else "diverged")
    if stop_after_points is not None:
        jobs = jobs[:max(0, stop_after_points)]

    def on_start(job: Job) -> None:
        entries[job.point.id]["state"] = "running"
        save_status(table=False)

    def on_done(job: Job, error: Optional[str]) -> None:
        record(job.point, error)

    save_status()
    if jobs:
        _backend(spec, jobs, ray_num_cpus)(jobs, on_start, on_done, progress)
    remaining = sum(1 for p in points if entries[p.id]["state"] not in DONE_STATES)
    return SweepResult(folders.path, result_rows(points, entries, spec.swept_keys), len(jobs), skipped, remaining)


def _backend(spec: SweepSpec, jobs: list[Job], ray_num_cpus: Optional[int]) -> Backend:
    """The spec's backend; ``auto`` is parallel where several points meet several CPU cores, else sequential."""
    backend = spec.backend
    if backend == "auto":
        on_cpu = all(resolve_device(j.plan.cfg.device).type == "cpu" for j in jobs)
        backend = "parallel" if on_cpu and worker_count(len(jobs), spec.workers) > 1 else "sequential"
    if backend == "parallel":
        return lambda jobs, start, done, progress: run_parallel(jobs, start, done, progress, spec.workers)
    if backend == "packed":
        return lambda jobs, start, done, progress: run_packed(jobs, start, done, progress, spec.pack_size,
                                                              spec.pad_latent)
    if backend == "ray":
        return lambda jobs, start, done, progress: run_ray(jobs, start, done, progress, spec.ray_address,
                                                           ray_num_cpus)
    return run_sequential
