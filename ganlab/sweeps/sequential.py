"""The default backend: each point is an ordinary ``ganlab.training.run.train`` call, one after another."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from ganlab.config import Config, from_dict
from ganlab.errors import TrainingDiverged
from ganlab.sweeps.jobs import Job, OnDone, OnStart
from ganlab.training.run import train


def train_point(cfg: Config, run_dir: str | Path, progress: bool = False) -> None:
    """Train (or continue) one point into its run folder; TrainingDiverged propagates. The sweep has already
    applied the resume rule with the user's --force, so a changed config planned to continue is let through."""
    train(cfg, run_dir=run_dir, force=True, progress=progress)


def train_point_data(cfg: dict[str, Any], run_dir: str) -> Optional[str]:
    """``train_point`` from a config as plain data (what crosses to a worker process); returns the divergence
    message of a diverged run, else None."""
    try:
        train_point(from_dict(cfg), run_dir)
    except TrainingDiverged as e:
        return str(e)
    return None


def run_sequential(jobs: list[Job], on_start: OnStart, on_done: OnDone, progress: bool) -> None:
    """Train the jobs in order; a diverged run is recorded and the sweep goes on."""
    for job in jobs:
        on_start(job)
        try:
            train_point(job.plan.cfg, job.run_dir, progress)
        except TrainingDiverged as e:
            on_done(job, str(e))
            continue
        on_done(job, None)
