"""Gradient-norm figures for the metrics log."""

from __future__ import annotations

from typing import Iterable

import torch


def grad_norm(parameters: Iterable[torch.Tensor]) -> torch.Tensor:
    """The global L2 norm of the parameters' gradients (a 0-d tensor on their device; 0 without gradients)."""
    params = list(parameters)
    norms = [p.grad.detach().float().norm(2) for p in params if p.grad is not None]
    if not norms:
        return torch.zeros((), device=params[0].device if params else "cpu")
    return torch.linalg.vector_norm(torch.stack(norms), 2)


def optimizer_params(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    """Every parameter an optimiser updates."""
    return [p for group in optimizer.param_groups for p in group["params"]]
