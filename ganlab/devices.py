"""Choosing the torch device from a config or command-line string."""

from __future__ import annotations

import torch

from ganlab.errors import GanlabError


def resolve_device(name: str | torch.device) -> torch.device:
    """'auto' -> cuda when available, else cpu; anything else as given (cuda refused when absent)."""
    if str(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanlabError(f"device={name} but no CUDA device is available; use device=cpu or device=auto")
    return device
