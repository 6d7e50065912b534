"""Full resume state: G, D, optimisers, schedulers, RNG states, step and config, written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ganlab.errors import GanlabError
from ganlab.io import atomic_torch_save

LAST = "checkpoints/last.pt"


def save_checkpoint(run_dir: Path, state: dict[str, Any], name: str = LAST) -> Path:
    """Write a resume state dict (tensors and plain data only) atomically."""
    return atomic_torch_save(run_dir / name, state)


def load_checkpoint(run_dir: Path, name: str = LAST, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a resume state written by ``save_checkpoint``."""
    path = run_dir / name
    if not path.is_file():
        raise GanlabError(f"no checkpoint at {path}; the run stopped before its first checkpoint, start it again "
                          f"with --overwrite")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:
        raise GanlabError(f"checkpoint {path} is unreadable ({type(e).__name__}); start the run again with "
                          f"--overwrite") from None
