"""Training: ``train`` is the library entry point behind ``ganlab train``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

from ganlab.config import Config
from ganlab.train import distributed
from ganlab.devices import resolve_device
from ganlab.errors import TrainingDiverged
from ganlab.train.trainer import Trainer, TrainResult
from ganlab.train.rundir import new_run_dir, prepare_run_dir, read_config, resume_config, write_config


def run_name(cfg: Config) -> str:
    """A short directory name for a config: data set and model family."""
    data = cfg.data.name.split(":")[-1].rstrip("/").split("/")[-1].replace(".zip", "")
    return f"{data}-{cfg.model.family}"


def train(cfg: Optional[Config] = None, *, run_dir: Optional[str | Path] = None, out_root: str | Path = "runs",
          resume: Optional[str | Path] = None, overwrite: bool = False, force: bool = False,
          stop_after_steps: Optional[int] = None, stop_after_minutes: Optional[float] = None,
          progress: bool = True) -> TrainResult:
    """Train a GAN into a run directory.

    New run: ``cfg`` into ``run_dir`` (refused if it exists, unless ``overwrite``) or a fresh numbered
    directory under ``out_root``. Resume: ``resume=RUN_DIR`` continues from its last checkpoint; a
    ``cfg`` that differs from the saved one is refused unless ``force``.
    Under ``torchrun --nproc_per_node N`` the N processes train one run with DDP; rank 0 alone prepares and
    writes the run directory.
    """
    def prepare() -> tuple[Config, Path]:
        if resume is not None:
            return resume_config(Path(resume), cfg, force), Path(resume)
        new = cfg if cfg is not None else Config()
        directory = prepare_run_dir(run_dir, overwrite) if run_dir else new_run_dir(out_root, run_name(new))
        write_config(directory, new)
        return new, directory

    requested = cfg if cfg is not None else (read_config(resume) if resume is not None else Config())
    with distributed.session(resolve_device(requested.device).type) as ctx:
        run_cfg, directory = distributed.on_main(ctx, prepare)
        trainer = Trainer(run_cfg, directory)
        if progress and ctx.is_main:
            counts = trainer.parameter_counts()
            print(f"ganlab: {directory}: G {counts['G']:,} parameters, D {counts['D']:,} parameters", file=sys.stderr)
        return trainer.run(resume=resume is not None, stop_after_steps=stop_after_steps,
                           stop_after_minutes=stop_after_minutes, progress=progress)


__all__ = ["Trainer", "TrainResult", "TrainingDiverged", "read_config", "resolve_device", "train"]
