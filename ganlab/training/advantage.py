"""The discriminator advantage: how many D updates each iteration makes, fixed or by report 002's adaptive rule."""

from __future__ import annotations

from typing import Any

import torch

from ganlab.config import TrainConfig


class DiscriminatorAdvantage:
    """D steps per iteration: ``train.d_steps``, or adapted by report 002's rule when ``train.adaptive_d_steps``.

    The adaptive rule, precisely:

    * each iteration reports D's training accuracy: the mean of its accuracy on the real batch (logit > 0)
      and on the fake batch (logit < 0), measured in the iteration's last D step before its update;
    * a check falls after every ``adaptive_every`` iterations (0: at every epoch end); it averages the
      accuracies reported since the previous check;
    * if that mean is below ``adaptive_threshold`` the D steps grow by one (at most ``adaptive_max_d_steps``),
      otherwise they fall back to ``d_steps`` (report 002: "increment the advantage of the discriminator if
      its accuracy was under 0.8, and put it back to 1 if not").

    The window's running sum lives on the training device (no sync per iteration); it is read at a check.
    """

    def __init__(self, cfg: TrainConfig, iters_per_epoch: int, device: torch.device | str = "cpu"):
        self.base = cfg.d_steps
        self.adaptive = cfg.adaptive_d_steps
        self.threshold = cfg.adaptive_threshold
        self.max_steps = cfg.adaptive_max_d_steps
        self.every = cfg.adaptive_every or iters_per_epoch
        self.d_steps = self.base
        self._acc_sum = torch.zeros((), dtype=torch.float64, device=device)
        self._count = 0

    def observe(self, accuracy: torch.Tensor, step: int) -> None:
        """Record the accuracy of the iteration that brought the count of iterations done to ``step``;
        apply the rule when a check falls there."""
        if not self.adaptive:
            return
        self._acc_sum += accuracy.detach().to(self._acc_sum.dtype)
        self._count += 1
        if step % self.every == 0:
            self.update(self._acc_sum.item() / self._count)
            self._acc_sum.zero_()
            self._count = 0

    def update(self, accuracy: float) -> int:
        """Apply the rule to a window's mean accuracy; returns the new number of D steps."""
        if accuracy < self.threshold:
            self.d_steps = min(self.d_steps + 1, self.max_steps)
        else:
            self.d_steps = self.base
        return self.d_steps

    def state_dict(self) -> dict[str, Any]:
        return {"d_steps": self.d_steps, "acc_sum": self._acc_sum.clone(), "count": self._count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.d_steps = int(state["d_steps"])
        self._acc_sum.copy_(state["acc_sum"])
        self._count = int(state["count"])
