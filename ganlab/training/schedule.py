"""Learning-rate schedules as pure functions of the iteration count (so resuming needs no scheduler state)."""

from __future__ import annotations

import torch

from ganlab.config import TrainConfig


def lr_factor(cfg: TrainConfig, step: int, iters_per_epoch: int, total_steps: int) -> float:
    """The multiplier of the base learning rates during iteration ``step`` (0-based).

    step: lr_step_factor ** (completed epochs // lr_step_epochs) (1 when lr_step_epochs = 0);
    linear: 1 - step / total_steps (SNGAN's decay, reaching 0 after the last iteration); none: 1.
    """
    if cfg.lr_schedule == "linear":
        return 1.0 - step / max(1, total_steps)
    if cfg.lr_schedule == "step" and cfg.lr_step_epochs:
        return cfg.lr_step_factor ** ((step // iters_per_epoch) // cfg.lr_step_epochs)
    return 1.0


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr
