"""What a sweep backend is handed: the points to train, each with its run folder, and the callbacks it reports to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from ganlab.sweeps.expand import Point
from ganlab.training.rundir import RunPlan


@dataclass
class Job:
    point: Point
    run_dir: Path
    plan: RunPlan  # what the one resume rule says: start afresh or continue from the checkpoint

    @property
    def resume(self) -> bool:
        return self.plan.action == "continue"


OnStart = Callable[[Job], None]
OnDone = Callable[[Job, Optional[str]], None]  # (job, error message of a diverged run or None)
Backend = Callable[[list[Job], OnStart, OnDone, bool], None]  # (jobs, on_start, on_done, progress)
