"""Opening a run folder to train into, and the one resume rule that a run, a sweep point and a study step share.

The rule (``plan_run``): an empty or new folder, or ``overwrite`` -> start (a folder holding something else
is refused); a run already done (finished or diverged) with the same config -> skip, unless it finished short of
that config's budget; a checkpoint with the same config -> continue; a run that saved nothing yet -> start afresh;
a changed config -> refused with the fix, unless ``force``: then continue from the checkpoint with the new config
(start where there is none). The folder's file names live in ``ganlab.folders``.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

from ganlab.config import Config, diff, to_yaml
from ganlab.errors import GanlabError
from ganlab.folders import RunDir
from ganlab.io import atomic_write_text

DONE_STATES = ("finished", "diverged")  # a run in one of these states has nothing left to train
Action = Literal["start", "continue", "skip"]


@dataclass
class RunPlan:
    action: Action  # start afresh, continue from the checkpoint, or nothing to do
    cfg: Config  # the config to train with


def plan_run(run_dir: str | Path, cfg: Optional[Config], force: bool = False, overwrite: bool = False) -> RunPlan:
    """What to do with ``run_dir`` for ``cfg`` (None: the saved config): the one resume rule (see the module)."""
    files = RunDir(run_dir)
    if overwrite or not files.is_run():
        if cfg is None:
            raise GanlabError(f"{files.path} holds no run to resume; pass a run directory made by 'ganlab train'")
        if not overwrite and files.path.is_dir() and any(files.path.iterdir()):
            raise GanlabError(f"{files.path} exists and holds no ganlab run; pass --overwrite to replace what is "
                              f"there, or another folder")
        return RunPlan("start", cfg)
    saved = files.read_config()
    changes = diff(saved, cfg) if cfg is not None else []
    if changes and not force:
        raise GanlabError(f"{files.path} holds a run of another config ({'; '.join(changes)}); pass --force to "
                          f"continue it with the new config, --overwrite to start it afresh, or use another folder")
    cfg = cfg if cfg is not None else saved
    if not files.has_checkpoint():
        return RunPlan("start", cfg)
    if not changes and files.state() in DONE_STATES and not short_of_budget(files.read_status(), cfg):
        return RunPlan("skip", cfg)
    return RunPlan("continue", cfg)


def short_of_budget(status: dict, cfg: Config) -> bool:
    """Whether a run that finished (not stopped early) trained less than its config now asks: a forced longer
    budget whose first attempt failed before training on (the config is written first). It continues."""
    if status.get("state") != "finished" or status.get("stopped_early"):
        return False
    t = cfg.train
    return int(status.get("step", 0)) < t.steps if t.steps > 0 else int(status.get("epoch", 0)) < t.epochs


def open_run(run_dir: str | Path, plan: RunPlan) -> Path:
    """Make the folder ready for ``plan``: a start empties it; both start and continue write the plan's config
    (the same text when it did not change, the new one when ``plan_run`` let a changed config through). Returns
    the folder."""
    files = RunDir(run_dir)
    if plan.action == "start":
        if files.path.exists():
            shutil.rmtree(files.path)
        files.path.mkdir(parents=True)
    atomic_write_text(files.config, to_yaml(plan.cfg))
    return files.path


def new_run_dir(out_root: str | Path, name: str) -> Path:
    """A fresh numbered directory ``out_root/NNNNN-name`` (the number one past the highest there)."""
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in out_root.iterdir() if (m := re.match(r"(\d{5})-", p.name))]
    run_dir = out_root / f"{max(numbers, default=-1) + 1:05d}-{name}"
    run_dir.mkdir()
    return run_dir


def read_config(run_dir: str | Path) -> Config:
    """The resolved config saved in a run directory."""
    return RunDir(run_dir).read_config()
