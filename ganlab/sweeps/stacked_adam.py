"""Adam over K models' stacked parameters, with a learning rate and betas per model.

The arithmetic is torch.optim.Adam's single-tensor path (no weight decay, no amsgrad), applied to
tensors of shape (K, ...) with per-model scalars broadcast over (K, 1, ...): each model's slice
follows exactly the update its own torch.optim.Adam would make. A parameter whose gradient is
None is skipped, as torch.optim.Adam skips it, and keeps its own step count.
"""

from __future__ import annotations

from typing import Optional

import torch


class StackedAdam:
    """Adam on ``params`` (name -> (K, ...) leaf tensors); ``lrs`` and ``betas`` hold one entry per model."""

    def __init__(self, params: dict[str, torch.Tensor], lrs: list[float], betas: list[tuple[float, float]],
                 eps: float = 1e-8):
        self.params = params
        self.eps = eps
        like = next(iter(params.values()))
        self.device, self.dtype = like.device, like.dtype
        self.betas = [tuple(map(float, b)) for b in betas]
        # per-model constants, on the device once: (K,) float64 for the bias corrections (Python's doubles),
        # the moment weights in the parameters' dtype
        self._b1 = self._on_device([b[0] for b in self.betas], torch.float64)
        self._b2 = self._on_device([b[1] for b in self.betas], torch.float64)
        self._one_minus_b1 = self._on_device([1 - b[0] for b in self.betas], self.dtype)
        self._b2_p = self._on_device([b[1] for b in self.betas], self.dtype)
        self._one_minus_b2 = self._on_device([1 - b[1] for b in self.betas], self.dtype)
        self.set_lrs(lrs)
        self.exp_avg = {n: torch.zeros_like(p) for n, p in params.items()}
        self.exp_avg_sq = {n: torch.zeros_like(p) for n, p in params.items()}
        self.steps = {n: 0 for n in params}

    def _on_device(self, values: list[float], dtype: torch.dtype) -> torch.Tensor:
        return torch.tensor(values, dtype=dtype, device=self.device)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop the gradients (always to None, as torch's default)."""
        for p in self.params.values():
            p.grad = None

    def set_lrs(self, lrs: list[float]) -> None:
        """Per-model learning rates (at the start and after a schedule step; one host-to-device copy)."""
        self.lrs = [float(lr) for lr in lrs]
        self._lr = self._on_device(self.lrs, torch.float64)

    def _corrections(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(step size lr / (1 - b1^t), sqrt(1 - b2^t)) per model, in float64 as torch.optim.Adam's Python
        floats, then cast; computed on the device (no host-to-device copy, no sync, per step)."""
        t = float(step)
        step_size = (self._lr / (1 - self._b1 ** t)).to(self.dtype)
        bc2_sqrt = ((1 - self._b2 ** t) ** 0.5).to(self.dtype)
        return step_size, bc2_sqrt

    @torch.no_grad()
    def step(self) -> None:
        """One Adam update of every parameter that has a gradient."""
        corrections: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        for name, p in self.params.items():
            grad: Optional[torch.Tensor] = p.grad
            if grad is None:
                continue
            self.steps[name] += 1
            step = self.steps[name]
            if step not in corrections:
                corrections[step] = self._corrections(step)
            shape = (-1, *([1] * (p.dim() - 1)))  # per-model scalars broadcast over (K, ...)
            step_size, bc2_sqrt = (c.view(shape) for c in corrections[step])
            m, v = self.exp_avg[name], self.exp_avg_sq[name]
            m.lerp_(grad, self._one_minus_b1.view(shape))
            v.mul_(self._b2_p.view(shape)).add_(self._one_minus_b2.view(shape) * grad * grad)  # addcmul's order
            denom = (v.sqrt() / bc2_sqrt).add_(self.eps)
            p.add_(-step_size * m / denom)  # addcdiv's order: (value * m) / denom

    def load_model_state(self, name: str, k: int, state: dict[str, torch.Tensor]) -> None:
        """Set model k's slice from a torch.optim.Adam per-parameter state (members resume at one step)."""
        self.exp_avg[name][k].copy_(state["exp_avg"])
        self.exp_avg_sq[name][k].copy_(state["exp_avg_sq"])
        self.steps[name] = int(float(state["step"]))

    def model_state(self, name: str, k: int) -> Optional[dict[str, torch.Tensor]]:
        """torch.optim.Adam's per-parameter state of model k (None before its first step)."""
        if self.steps[name] == 0:
            return None
        return {"step": torch.tensor(float(self.steps[name])), "exp_avg": self.exp_avg[name][k].clone(),
                "exp_avg_sq": self.exp_avg_sq[name][k].clone()}
