"""The default backend: each point is an ordinary ``ganlab.train.train`` call, one after another."""

from __future__ import annotations

from ganlab.sweep.runner import Job, OnDone, OnStart
from ganlab.train import TrainingDiverged, train


def train_job(job: Job, progress: bool = False) -> None:
    """Train (or resume) one point into its run directory; TrainingDiverged propagates."""
    if job.resume:
        train(job.point.cfg, resume=job.run_dir, progress=progress)
    else:
        train(job.point.cfg, run_dir=job.run_dir, overwrite=True, progress=progress)


def run_sequential(jobs: list[Job], on_start: OnStart, on_done: OnDone, progress: bool) -> None:
    """Train the jobs in order; a diverged run is recorded and the sweep goes on."""
    for job in jobs:
        on_start(job)
        try:
            train_job(job, progress)
        except TrainingDiverged as e:
            on_done(job, str(e))
            continue
        on_done(job, None)
