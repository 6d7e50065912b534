"""The run directory: one per run, never overwritten by accident, holding everything a run made.

``RunDir`` is the one place that knows its file names::

    config.yaml                  the resolved config, written before training starts
    status.json                  state (running, paused, finished, diverged), step, totals
    metrics.jsonl                one record per log interval, and the evaluations during training
    eval.json                    results of ``ganlab eval`` (metric name -> record)
    checkpoints/last.pt          full resume state; previous.pt the one before it; best.pt the best by FID
    export/generator.safetensors the generator for sampling (+ .json); generator-eNNNN.* per epoch, -best
    samples/epoch_NNNN.png       the fixed-noise grid of each epoch
    figures/                     curves and other PNGs drawn from the run
    explore/                     the explorations' PNGs and JSON
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Optional

import torch

from ganlab.config import Config, diff, load_config, to_yaml
from ganlab.errors import GanlabError
from ganlab.io import atomic_write_text

STATUS_FILE = "status.json"  # a run's (and a sweep's) state
EXPORT_NAME = "generator"  # export/generator.safetensors, generator-eNNNN, generator-best


class RunDir:
    """Paths and readers of one run directory."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.config = self.path / "config.yaml"
        self.status = self.path / STATUS_FILE
        self.metrics = self.path / "metrics.jsonl"
        self.eval = self.path / "eval.json"
        self.checkpoints = self.path / "checkpoints"
        self.last_checkpoint = self.checkpoints / "last.pt"
        self.previous_checkpoint = self.checkpoints / "previous.pt"  # resume falls back to it when last.pt is bad
        self.best_checkpoint = self.checkpoints / "best.pt"
        self.exports = self.path / "export"
        self.best_export = self.exports / f"{EXPORT_NAME}-best.safetensors"
        self.samples = self.path / "samples"
        self.figures = self.path / "figures"
        self.explore = self.path / "explore"

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def has_checkpoint(self) -> bool:
        """True when there is a checkpoint to resume from (the last, or the previous one)."""
        return self.last_checkpoint.is_file() or self.previous_checkpoint.is_file()

    def export(self, epoch: Optional[int] = None) -> Path:
        """The latest generator export, or the one kept at ``epoch``."""
        return self.exports / (f"{EXPORT_NAME}.safetensors" if epoch is None else
                               f"{EXPORT_NAME}-e{epoch:04d}.safetensors")

    def exported_epochs(self) -> list[int]:
        """Epochs whose generator export was kept."""
        return sorted(int(m.group(1)) for p in self.exports.glob(f"{EXPORT_NAME}-e*.safetensors")
                      if (m := re.fullmatch(rf"{EXPORT_NAME}-e(\d+)", p.stem)))

    def epoch_grid(self, epoch: int) -> Path:
        return self.samples / f"epoch_{epoch:04d}.png"

    def epoch_grids(self) -> list[Path]:
        return sorted(self.samples.glob("epoch_*.png"))

    # ----- readers ---------------------------------------------------------------------------------
    def is_run(self) -> bool:
        """True for a directory made by ``ganlab train`` (it has the resolved config)."""
        return self.config.is_file()

    def read_config(self) -> Config:
        """The resolved config saved in the run directory."""
        if not self.is_run():
            raise GanlabError(f"{self.path} is not a ganlab run directory (no {self.config.name}); pass a directory "
                              f"made by 'ganlab train'")
        return load_config(self.config)

    def read_status(self) -> dict[str, Any]:
        """status.json, or {} when absent or unreadable."""
        return _read_json(self.status) or {}

    def state(self) -> Optional[str]:
        """The run's state (running, paused, finished, diverged), None before it started."""
        return self.read_status().get("state")

    def read_eval(self) -> Optional[dict[str, Any]]:
        """eval.json (metric name -> record), None when absent."""
        return _read_json(self.eval)

    def load_generator(self, epoch: Optional[int] = None, device: str | torch.device = "cpu"):
        """The exported generator (latest, or of ``epoch``): (module in eval mode, config, spec, metadata)."""
        from ganlab.models.export import load_generator

        path = self.export(epoch)
        if epoch is not None and not path.is_file():
            kept = ", ".join(map(str, self.exported_epochs())) or "none"
            raise GanlabError(f"run {self.path} kept no export of epoch {epoch}; kept epochs: {kept}")
        return load_generator(path, device)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def load_generator_source(source: str | Path, epoch: Optional[int] = None, device: str | torch.device = "cpu"):
    """A generator from a run directory (latest or ``epoch``'s export) or from an export .safetensors file."""
    from ganlab.models.export import load_generator

    source = Path(source)
    return RunDir(source).load_generator(epoch, device) if source.is_dir() else load_generator(source, device)


def new_run_dir(out_root: str | Path, name: str) -> Path:
    """A fresh numbered directory ``out_root/NNNNN-name`` (the number one past the highest there)."""
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in out_root.iterdir() if (m := re.match(r"(\d{5})-", p.name))]
    run_dir = out_root / f"{max(numbers, default=-1) + 1:05d}-{name}"
    run_dir.mkdir()
    return run_dir


def prepare_run_dir(run_dir: str | Path, overwrite: bool) -> Path:
    """Use an explicit run directory: refuse an existing non-empty one unless ``overwrite``."""
    run_dir = Path(run_dir)
    if run_dir.exists() and any(run_dir.iterdir()):
        if not overwrite:
            raise GanlabError(f"run directory {run_dir} already exists; pass --resume {run_dir} to continue it, "
                              f"--overwrite to replace it, or another --run-dir")
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def write_config(run_dir: str | Path, cfg: Config) -> None:
    """Save the resolved config (before training starts)."""
    atomic_write_text(RunDir(run_dir).config, to_yaml(cfg))


def read_config(run_dir: str | Path) -> Config:
    """The resolved config saved in a run directory."""
    return RunDir(run_dir).read_config()


def resume_config(run_dir: str | Path, requested: Optional[Config], force: bool) -> Config:
    """The config to resume with: the saved one; a different requested one is refused unless ``force``."""
    saved = read_config(run_dir)
    if requested is None:
        return saved
    changes = diff(saved, requested)
    if changes and not force:
        raise GanlabError(f"resuming {run_dir} with a changed config ({'; '.join(changes)}); "
                          f"drop the changes or pass --force")
    if changes:
        write_config(run_dir, requested)
    return requested
