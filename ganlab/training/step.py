"""The math of one training iteration, split from the randomness it consumes.

``draw_inputs`` draws everything random an iteration needs (batches, augmentation, noise) in the
order the loop always drew it; ``gan_update`` is then a pure function of those inputs: D updates,
then G updates, then the iteration's statistics added to a device-side ``Tally``. The same
``gan_update`` runs one model (eager, compiled or captured in one CUDA graph by ``ganlab.training.fastpath``)
and K models at once (``ganlab.sweeps.packed``: vmapped networks, stacked Adam); ``StepParts`` says which.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Optional, Protocol

import torch
import torch.nn as nn

from ganlab.config import TrainConfig
from ganlab.data import BatchSampler
from ganlab.losses import LOSSES, DLoss, GLoss, l1_reconstruction
from ganlab.training.gradnorm import grad_norm, optimizer_params
from ganlab.training.penalty import gradient_penalty

STATS = ("loss_d", "loss_g", "d_real", "d_fake", "acc_real", "acc_fake",
         "grad_norm_d", "grad_norm_g")  # the logged statistics of an iteration, in the order of its stats vector


@dataclass
class StepInputs:
    """What one iteration consumes: a batch and a noise draw per D step, extra noise per further G step."""

    xs: list[torch.Tensor]  # d_steps x (B, C, H, W) images in [-1, 1]
    ys: list[torch.Tensor]  # d_steps x (B,) labels
    zs: list[torch.Tensor]  # d_steps x (B, z_dim) noise of the D steps' fakes
    zs_g: list[torch.Tensor] = field(default_factory=list)  # (g_steps - 1) x (B, z_dim) noise of G steps 2..
    mixes: list[torch.Tensor] = field(default_factory=list)  # wgan-gp: d_steps x (B, 1, 1, 1) weights in U(0, 1)

    def tensors(self) -> list[torch.Tensor]:
        """All input tensors, flat, in a fixed order."""
        return [*self.xs, *self.ys, *self.zs, *self.mixes, *self.zs_g]

    def like(self, tensors: list[torch.Tensor]) -> "StepInputs":
        """Inputs of the same structure made of ``tensors`` (in the order of ``tensors()``)."""
        n, m = len(self.xs), len(self.mixes)
        return StepInputs(tensors[:n], tensors[n:2 * n], tensors[2 * n:3 * n], tensors[3 * n + m:],
                          tensors[3 * n:3 * n + m])


def draw_inputs(sampler: BatchSampler, rng: torch.Generator, first_batch: int, d_steps: int, g_steps: int,
                z_dim: int, penalty: bool = False) -> StepInputs:
    """The inputs of one iteration whose D steps use batches ``first_batch``.., drawn from ``rng`` in the loop's
    order: (batch j, noise j[, gradient-penalty mix j]) per D step, then the noise of G steps 2..g_steps."""
    xs, ys, zs, mixes = [], [], [], []
    for j in range(d_steps):
        x, y = sampler.batch(first_batch + j, rng)
        xs.append(x), ys.append(y)
        zs.append(torch.randn(x.shape[0], z_dim, device=x.device, generator=rng))
        if penalty:
            mixes.append(torch.rand(x.shape[0], 1, 1, 1, device=x.device, generator=rng))
    b, dev = xs[0].shape[0], xs[0].device
    zs_g = [torch.randn(b, z_dim, device=dev, generator=rng) for _ in range(g_steps - 1)]
    return StepInputs(xs, ys, zs, zs_g, mixes)


class Tally:
    """Sums of the stats vector and the first iteration with a non-finite loss, kept on the device
    (updated in place, so it can live inside a captured graph; read only at log time). ``models`` > 0
    keeps one column per model: sums (len(STATS), models), first bad iteration (models,)."""

    def __init__(self, size: int, device: torch.device, models: int = 0):
        self.sums = torch.zeros((size, models) if models else (size,), device=device)
        self.count = torch.zeros((), device=device)
        self.first_bad = torch.full((models,) if models else (), -1, dtype=torch.long, device=device)  # -1 = none
        self.iteration = torch.zeros((), dtype=torch.long, device=device)  # 0-based index of the next iteration

    def tensors(self) -> list[torch.Tensor]:
        return [self.sums, self.count, self.first_bad, self.iteration]

    def add(self, stats: torch.Tensor) -> None:
        finite = torch.isfinite(stats[:2]).all(0)
        self.first_bad.copy_(torch.where((self.first_bad < 0) & ~finite, self.iteration, self.first_bad))
        self.iteration.add_(1)
        self.sums.add_(stats)
        self.count.add_(1)

    def start(self, iteration: int) -> None:
        """Clear everything; the next iteration is number ``iteration``."""
        self.sums.zero_(), self.count.zero_(), self.first_bad.fill_(-1), self.iteration.fill_(iteration)

    def take_means(self) -> torch.Tensor:
        """The mean stats since the last call (on the device), then clear the sums."""
        means = self.sums / self.count.clamp(min=1)
        self.sums.zero_(), self.count.zero_()
        return means


class Optimizer(Protocol):
    """What ``gan_update`` needs of an optimiser: torch.optim.Adam, or the packed backend's StackedAdam."""

    def zero_grad(self, set_to_none: bool = True) -> None: ...

    def step(self) -> Any: ...


def _one_model_grad_norm(opt: Any) -> torch.Tensor:
    return grad_norm(optimizer_params(opt))


@dataclass
class StepParts:
    """The networks, optimisers and losses one update works on.

    One model: ``G`` and ``D`` may be wrapped (DDP, compiled); ``D_for_g`` is the discriminator the G steps
    call (not DDP-wrapped: no D gradients are computed there) and ``D_module`` the bare discriminator whose
    weights are frozen meanwhile. K models (the packed backend): vmapped callables over stacked weights,
    losses and L1 returning (K,) values, per-model gradient norms; ``freeze_d`` freezes the stacked weights.
    """

    G: Callable[..., torch.Tensor]
    D: Callable[..., torch.Tensor]
    D_for_g: Callable[..., torch.Tensor]
    opt_g: Optimizer
    opt_d: Optimizer
    losses: tuple[DLoss, GLoss]  # (d_loss(real_logits, fake_logits), g_loss(fake_logits)), e.g. LOSSES["bce"]
    freeze_d: Callable[[bool], Any]  # freeze_d(True) before G's updates, freeze_d(False) after
    l1: Optional[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = None  # weighted L1(real, fake) term of G
    grad_norm: Callable[[Any], torch.Tensor] = _one_model_grad_norm  # gradient norm(s) of an optimiser's params
    merge_d_batches: bool = False  # real and fake through D as one batch (only for a D without buffers)


def model_parts(G: Callable[..., torch.Tensor], D: Callable[..., torch.Tensor], D_for_g: Callable[..., torch.Tensor],
                D_module: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, t: TrainConfig,
                merge_d_batches: bool = False) -> StepParts:
    """The parts of one model's update under the config's loss and L1 weight."""
    weight = t.l1_weight
    return StepParts(G, D, D_for_g, opt_g, opt_d, LOSSES[t.loss], lambda frozen: D_module.requires_grad_(not frozen),
                     (lambda x, fake: weight * l1_reconstruction(x, fake)) if weight else None,
                     merge_d_batches=merge_d_batches)


def autocast_context(precision: str, device: torch.device, cache: bool = True) -> Callable[[], ContextManager]:
    """A factory of the autocast context of ``train.precision`` (``cache=False`` inside a CUDA graph capture)."""
    if precision == "bf16":
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=cache)
    return contextlib.nullcontext


def stateless(module: nn.Module) -> bool:
    """True when a module has no buffers (no BatchNorm statistics, no spectral-norm vectors): calling it once
    on a joined batch is then the same function as calling it on each part."""
    return next(iter(module.buffers()), None) is None


def gan_update(parts: StepParts, inputs: StepInputs, t: TrainConfig, tally: Tally,
               autocast: Callable[[], ContextManager] = contextlib.nullcontext) -> torch.Tensor:
    """d_steps discriminator updates, then g_steps generator updates (the last D step's fake is reused by the
    first G update); adds the iteration's stats to ``tally`` and returns them, a (len(STATS), ...) tensor
    (... = (K,) for K packed models)."""
    d_loss_fn, g_loss_fn = parts.losses
    d_steps = len(inputs.xs)
    for j, (x, y, z) in enumerate(zip(inputs.xs, inputs.ys, inputs.zs)):
        last = j == d_steps - 1
        with autocast():
            with torch.set_grad_enabled(last):  # the last fake is reused by the first G update
                fake = parts.G(z, y)
            if parts.merge_d_batches:
                real_logits, fake_logits = parts.D(torch.cat([x, fake.detach()]), torch.cat([y, y])).chunk(2)
            else:
                real_logits = parts.D(x, y)
                fake_logits = parts.D(fake.detach(), y)
            loss_d = d_loss_fn(real_logits.float(), fake_logits.float())
        if inputs.mixes:
            loss_d = loss_d + t.gp_weight * gradient_penalty(parts.D, x, fake, y, inputs.mixes[j])
        parts.opt_d.zero_grad(set_to_none=True)
        loss_d.sum().backward()  # K packed models are independent: each slice gets its own gradient
        if last:
            grad_norm_d = parts.grad_norm(parts.opt_d)
        parts.opt_d.step()
    parts.freeze_d(True)  # G's updates need gradients through D, not of D's weights
    try:
        for k in range(t.g_steps):
            if k > 0:
                with autocast():
                    fake = parts.G(inputs.zs_g[k - 1], y)
            with autocast():
                loss_g = g_loss_fn(parts.D_for_g(fake, y).float())
                if parts.l1 is not None:
                    loss_g = loss_g + parts.l1(x, fake.float())
            parts.opt_g.zero_grad(set_to_none=True)
            loss_g.sum().backward()
            grad_norm_g = parts.grad_norm(parts.opt_g)
            parts.opt_g.step()
    finally:
        parts.freeze_d(False)
    stats = iteration_stats(loss_d, loss_g, real_logits, fake_logits, grad_norm_d, grad_norm_g)
    tally.add(stats)
    return stats


def iteration_stats(loss_d: torch.Tensor, loss_g: torch.Tensor, real_logits: torch.Tensor,
                    fake_logits: torch.Tensor, grad_norm_d: torch.Tensor, grad_norm_g: torch.Tensor) -> torch.Tensor:
    """The STATS of an iteration as a (len(STATS), ...) tensor from losses and gradient norms (...) and
    logits (..., B); ... is () for one model, (K,) for K models trained packed."""
    real_logits, fake_logits = real_logits.detach().float(), fake_logits.detach().float()
    return torch.stack([
        loss_d.detach().float(), loss_g.detach().float(),
        torch.sigmoid(real_logits).mean(-1), torch.sigmoid(fake_logits).mean(-1),
        (real_logits > 0).float().mean(-1), (fake_logits < 0).float().mean(-1),
        grad_norm_d.float(), grad_norm_g.float(),
    ])
