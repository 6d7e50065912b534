"""Full resume state: G, D, optimisers, schedulers, RNG states, step and config, written atomically.

Each new last checkpoint moves the one before it to ``previous.pt``, so a last checkpoint that is
unreadable (a disk that filled up, a copy cut short) costs one checkpoint interval, not the run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import torch

from ganlab.errors import GanlabError
from ganlab.folders import RunDir
from ganlab.io import atomic_torch_save


def save_checkpoint(run_dir: str | Path, state: dict[str, Any]) -> Path:
    """Write the run's last checkpoint atomically, keeping the one it replaces as previous.pt."""
    rd = RunDir(run_dir)
    if rd.last_checkpoint.is_file():
        os.replace(rd.last_checkpoint, rd.previous_checkpoint)
    return atomic_torch_save(rd.last_checkpoint, state)


def save_best_checkpoint(run_dir: str | Path, state: dict[str, Any]) -> Path:
    """Write the best-by-FID checkpoint atomically."""
    return atomic_torch_save(RunDir(run_dir).best_checkpoint, state)


def load_checkpoint(run_dir: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The run's last checkpoint; when it is missing or unreadable, the previous one (saying so on stderr)."""
    rd = RunDir(run_dir)
    problems: list[str] = []
    for path in (rd.last_checkpoint, rd.previous_checkpoint):
        if not path.is_file():
            problems.append(f"{path.name} is missing")
            continue
        try:
            state = torch.load(path, map_location=map_location, weights_only=True)
        except Exception as e:  # truncated or corrupted files fail in several ways
            problems.append(f"{path.name} is unreadable ({type(e).__name__})")
            continue
        if problems:
            print(f"ganlab: {rd.checkpoints}: {problems[0]}; resuming from {path.name} (iteration {state['step']})",
                  file=sys.stderr)
        return state
    raise GanlabError(f"no usable checkpoint in {rd.checkpoints} ({'; '.join(problems)}): the run stopped before "
                      f"its first checkpoint or its files are damaged; start it again with --overwrite")
