"""Training a run: ``train`` is the library entry point behind ``ganlab train``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

from ganlab.config import Config
from ganlab.devices import resolve_device
from ganlab.folders import RUNS_ROOT, RunDir
from ganlab.training import distributed
from ganlab.training.rundir import RunPlan, new_run_dir, open_run, plan_run, read_config
from ganlab.training.trainer import Trainer, TrainResult


def run_name(cfg: Config) -> str:
    """A short directory name for a config: data set and model family."""
    data = cfg.data.name.split(":")[-1].rstrip("/").split("/")[-1].replace(".zip", "")
    return f"{data}-{cfg.model.family}"


def train(cfg: Optional[Config] = None, *, run_dir: Optional[str | Path] = None, out_root: str | Path = RUNS_ROOT,
          resume: Optional[str | Path] = None, overwrite: bool = False, force: bool = False,
          stop_after_steps: Optional[int] = None, stop_after_minutes: Optional[float] = None,
          progress: bool = True) -> TrainResult:
    """Train a GAN into a run directory.

    ``run_dir`` (or ``resume``, the same with the saved config as default) follows the one resume rule
    (``ganlab.training.rundir.plan_run``): a new folder starts, the same config continues from its checkpoint (or does
    nothing when the run is done), a changed config is refused unless ``force``; ``overwrite`` starts afresh.
    Without either, a fresh numbered directory under ``out_root``.
    Under ``torchrun --nproc_per_node N`` the N processes train one run with DDP; rank 0 alone prepares and
    writes the run directory.
    """
    folder = resume if resume is not None else run_dir
    wanted = cfg if cfg is not None or resume is not None else Config()  # None: the resumed run's saved config
    requested = wanted if wanted is not None else read_config(folder)

    def prepare() -> tuple[RunPlan, Path]:
        if folder is None:
            return RunPlan("start", requested), new_run_dir(out_root, run_name(requested))
        return plan_run(folder, wanted, force=force, overwrite=overwrite), Path(folder)

    with distributed.session(resolve_device(requested.device).type) as ctx:
        plan, directory = distributed.on_main(ctx, prepare)
        if plan.action == "skip":
            if progress and ctx.is_main:
                print(f"ganlab: {directory} is done ({RunDir(directory).state()}); nothing to train "
                      f"(--overwrite trains it again)", file=sys.stderr)
            return TrainResult(directory, int(RunDir(directory).read_status().get("step", 0)), finished=True,
                               main_process=ctx.is_main)
        distributed.on_main(ctx, lambda: open_run(directory, plan))
        return _run_trainer(plan, directory, ctx.is_main, stop_after_steps=stop_after_steps,
                            stop_after_minutes=stop_after_minutes, progress=progress)


def _run_trainer(plan: RunPlan, directory: Path, is_main: bool, *, stop_after_steps: Optional[int],
                 stop_after_minutes: Optional[float], progress: bool) -> TrainResult:
    """Build the trainer and run it. Its own frame, so that the trainer (and its DDP modules, which hold the
    process group) is garbage by the time ``distributed.session`` leaves the group."""
    trainer = Trainer(plan.cfg, directory)
    if progress and is_main:
        counts = trainer.parameter_counts()
        print(f"ganlab: {directory}: G {counts['G']:,} parameters, D {counts['D']:,} parameters", file=sys.stderr)
    return trainer.run(resume=plan.action == "continue", stop_after_steps=stop_after_steps,
                       stop_after_minutes=stop_after_minutes, progress=progress)
