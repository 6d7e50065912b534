"""An exponential moving average of the generator's weights (used for sampling, export and evaluation)."""

from __future__ import annotations

import copy
from typing import Any, Iterable

import torch
import torch.nn as nn


class GeneratorEMA:
    """ema <- decay * ema + (1 - decay) * G for every parameter after each iteration; buffers (BatchNorm
    running statistics, spectral-norm vectors) are copied. During the first ``start`` iterations the EMA
    simply copies G (BigGAN's ema_start), so early random weights do not linger.
    """

    def __init__(self, generator: nn.Module, decay: float, start: int = 0):
        self.decay, self.start = decay, start
        self.module = copy.deepcopy(generator).requires_grad_(False)

    def decay_at(self, step: int) -> float:
        """The decay used after iteration ``step``: 0 (a plain copy) during the first ``start`` iterations."""
        return self.decay if step >= self.start else 0.0

    def update(self, generator: nn.Module, step: int) -> None:
        """Average G in after iteration ``step`` (0-based count of iterations done before it)."""
        average_into(self.module.parameters(), generator.parameters(), self.module.buffers(), generator.buffers(),
                     self.decay_at(step))

    def state_dict(self) -> dict[str, Any]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state)


@torch.no_grad()
def average_into(ema_params: Iterable[torch.Tensor], params: Iterable[torch.Tensor],
                 ema_buffers: Iterable[torch.Tensor], buffers: Iterable[torch.Tensor], decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * p for each parameter (a copy when decay is 0); buffers copied. Serves one
    generator's modules and the packed backend's stacked (K, ...) tensors alike."""
    for p_ema, p in zip(ema_params, params):
        if decay == 0.0:
            p_ema.copy_(p)
        else:
            p_ema.lerp_(p, 1.0 - decay)  # ema + (1 - decay) * (p - ema)
    for b_ema, b in zip(ema_buffers, buffers):
        b_ema.copy_(b)
