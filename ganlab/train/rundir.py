"""The run directory: one per run, never overwritten by accident, holding everything a run made."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Optional

from ganlab.config import Config, diff, load_config, to_yaml
from ganlab.errors import GanlabError
from ganlab.io import atomic_write_text

CONFIG_FILE = "config.yaml"


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


def write_config(run_dir: Path, cfg: Config) -> None:
    """Save the resolved config (before training starts)."""
    atomic_write_text(run_dir / CONFIG_FILE, to_yaml(cfg))


def read_config(run_dir: str | Path) -> Config:
    """The resolved config saved in a run directory."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise GanlabError(f"{run_dir} is not a ganlab run directory (no {CONFIG_FILE}); pass a directory made by "
                          f"'ganlab train'")
    return load_config(path)


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
        write_config(Path(run_dir), requested)
    return requested
