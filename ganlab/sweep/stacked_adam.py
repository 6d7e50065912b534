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
        self.betas = [tuple(map(float, b)) for b in betas]
        self.lrs = [float(lr) for lr in lrs]
        self.exp_avg = {n: torch.zeros_like(p) for n, p in params.items()}
        self.exp_avg_sq = {n: torch.zeros_like(p) for n, p in params.items()}
        self.steps = {n: 0 for n in params}
        self._cache: dict[tuple[float, ...], torch.Tensor] = {}

    def _vector(self, values: list[float], like: torch.Tensor) -> torch.Tensor:
        """(K,) Python floats -> a float tensor on ``like``'s device (cached: one copy per distinct list)."""
        key = tuple(values)
        if key not in self._cache:
            self._cache[key] = torch.tensor(values, dtype=like.dtype, device=like.device)
        return self._cache[key]

    def zero_grad(self) -> None:
        for p in self.params.values():
            p.grad = None

    def set_lrs(self, lrs: list[float]) -> None:
        """New per-model learning rates (after a schedule step)."""
        self.lrs = [float(lr) for lr in lrs]

    @torch.no_grad()
    def step(self) -> None:
        """One Adam update of every parameter that has a gradient (Python-double bias corrections, as torch)."""
        if len(self._cache) > 64:  # step-dependent entries: keep the cache small
            self._cache.clear()
        b1 = [b[0] for b in self.betas]
        b2 = [b[1] for b in self.betas]
        for name, p in self.params.items():
            grad: Optional[torch.Tensor] = p.grad
            if grad is None:
                continue
            self.steps[name] += 1
            step = float(self.steps[name])
            shape = (-1, *([1] * (p.dim() - 1)))  # per-model scalars broadcast over (K, ...)

            def per_model(values: list[float]) -> torch.Tensor:
                return self._vector(values, p).view(shape)

            m, v = self.exp_avg[name], self.exp_avg_sq[name]
            m.lerp_(grad, per_model([1 - b for b in b1]))
            v.mul_(per_model(b2)).add_(per_model([1 - b for b in b2]) * grad * grad)  # addcmul's order
            step_size = per_model([lr / (1 - b ** step) for lr, b in zip(self.lrs, b1)])
            bc2_sqrt = per_model([(1 - b ** step) ** 0.5 for b in b2])
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
