"""Gradient-norm figures for the metrics log."""

from __future__ import annotations

import torch
import torch.nn as nn


def grad_norm(module: nn.Module) -> torch.Tensor:
    """The global L2 norm of a module's parameter gradients (a 0-d tensor on their device; 0 without gradients)."""
    norms = [p.grad.detach().float().norm(2) for p in module.parameters() if p.grad is not None]
    if not norms:
        return torch.zeros((), device=next(module.parameters()).device)
    return torch.linalg.vector_norm(torch.stack(norms), 2)
