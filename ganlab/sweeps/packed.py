"""The packed backend: K models of one family and shape trained at once, as one batched computation.

Each member is an ordinary ``Trainer`` (its seed's initial weights, data order, noise generator,
schedules, EMA, evaluation and run directory), and the one training loop (``ganlab.training.loop``) drives
them; only the iteration's math is batched, by ``PackedStep``: the members' weights are stacked into
(K, ...) tensors and G and D run under ``torch.func.vmap`` over ``functional_call`` inside the same
``gan_update`` as one model, with BatchNorm's running statistics stacked as well (vmap updates each
member's slice in place) and one ``StackedAdam`` stepping all members with their own learning rates and
betas. Every run directory is the one sequential training would have written, and any member can later
be resumed alone with ``ganlab train --resume``.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path
from typing import Optional

import torch
import torch.nn as nn
from torch.func import functional_call, vmap
from torch.nn.utils import parametrize

from ganlab.config import Config
from ganlab.data import DataSplits, ImageSet, load_data
from ganlab.devices import resolve_device
from ganlab.errors import GanlabError
from ganlab.losses import LOSSES, l1_reconstruction
from ganlab.models import build_models
from ganlab.sweeps.jobs import Job, OnDone, OnStart
from ganlab.sweeps.packing import PaddedLayout, chunks, pack_key, padding_is_exact, shapes
from ganlab.sweeps.stacked_adam import StackedAdam
from ganlab.training.checkpoint import load_checkpoint
from ganlab.training.ema import average_into
from ganlab.training.loop import TrainingLoop
from ganlab.training.rundir import RunPlan, open_run
from ganlab.training.step import STATS, StepInputs, StepParts, Tally, autocast_context, draw_inputs, gan_update
from ganlab.training.trainer import Trainer


def refuse_unpackable(trainer: Trainer, g_base: nn.Module, d_base: nn.Module) -> None:
    """The one place that says what packing cannot batch, and why; everything else trains as it would alone."""
    t = trainer.cfg.train
    reasons = []
    if t.adaptive_d_steps:
        reasons.append("train.adaptive_d_steps (each model would need its own number of D steps per iteration)")
    if t.loss == "wgan-gp":
        reasons.append("train.loss=wgan-gp (the gradient penalty differentiates through D per model)")
    if trainer.fast_path != "eager":
        reasons.append(f"train.fast_path={trainer.fast_path} (packed models run vmapped, eagerly)")
    for what, module in (("generator", g_base), ("discriminator", d_base)):
        for name, m in module.named_modules():
            if parametrize.is_parametrized(m) or m._forward_pre_hooks or m._forward_hooks:
                reasons.append(f"the {what} module '{name or type(m).__name__}' (a parametrisation such as spectral "
                               f"norm, or a hook, is not carried by functional_call + vmap)")
                break
    if reasons:
        raise GanlabError(f"the packed backend cannot batch {'; '.join(reasons)}; use backend: sequential for "
                          f"this sweep")


def eager_when_auto(cfg: Config) -> Config:
    """Packed members run vmapped, eagerly: ``train.fast_path=auto`` means eager here (another path is refused)."""
    if cfg.train.fast_path != "auto":
        return cfg
    return dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, fast_path="eager"))


def _device_data(data: DataSplits, device: torch.device) -> DataSplits:
    """The training images moved to the device once, shared by every member's sampler."""
    train = ImageSet(data.train.images.to(device), data.train.labels.to(device), data.train.class_names)
    return DataSplits(train=train, test=data.test, name=data.name)


class PackedStep:
    """One iteration of K Trainers at once: their weights stacked into (K, ...) tensors, G and D vmapped over
    ``functional_call``, one ``StackedAdam`` per network, the members' generator EMAs stacked too, all through
    the same ``gan_update`` as one model. The members' modules, optimisers and EMAs are written back by
    ``sync`` before anything reads them."""

    def __init__(self, members: list[Trainer], resume: bool):
        self.members = members
        lead = members[0]
        self.cfg, self.device = lead.cfg, lead.device
        self.autocast = autocast_context(self.cfg.train.precision, self.device)
        self.z_dims = [m.cfg.model.z_dim for m in members]
        self.z_max = max(self.z_dims)
        self.record = {"packed_models": len(members)}
        self.tally = Tally(len(STATS), self.device, models=len(members))
        self._lrs: Optional[tuple[list[float], list[float]]] = None  # the learning rates the stacked Adams hold
        self._synced_step = -1

        g_base, d_base = build_models(dataclasses.replace(self.cfg.model, z_dim=self.z_max), lead.spec)
        refuse_unpackable(lead, g_base, d_base)
        self.g_base, self.d_base = g_base.to("meta"), d_base.to("meta")  # structure only; weights are stacked
        self.g_layout = PaddedLayout(shapes(g_base), [shapes(m.G) for m in members], self.z_dims, self.z_max)
        self.d_layout = PaddedLayout(shapes(d_base), [shapes(m.D) for m in members], self.z_dims, self.z_max)
        self.g_params, self.g_buffers = self._stack([m.G for m in members], self.g_layout)
        self.d_params, self.d_buffers = self._stack([m.D for m in members], self.d_layout)
        self.ema = (self._stack([m.ema.module for m in members], self.g_layout, trainable=False)
                    if lead.ema is not None else None)
        self.adam_g = StackedAdam(self.g_params, [float(m.opt_g.param_groups[0]["lr"]) for m in members],
                                  [m.opt_g.param_groups[0]["betas"] for m in members])
        self.adam_d = StackedAdam(self.d_params, [float(m.opt_d.param_groups[0]["lr"]) for m in members],
                                  [m.opt_d.param_groups[0]["betas"] for m in members])
        if resume:
            self._load_optimiser_states()
        self.parts = self._parts()

    def _parts(self) -> StepParts:
        vG = vmap(lambda p, b, z, y: functional_call(self.g_base, (p, b), (z, y)))
        vD = vmap(lambda p, b, x, y: functional_call(self.d_base, (p, b), (x, y)))
        d_loss, g_loss = LOSSES[self.cfg.train.loss]
        weights = torch.tensor([m.cfg.train.l1_weight for m in self.members], device=self.device)
        v_l1 = vmap(l1_reconstruction)

        def freeze_d(frozen: bool) -> None:
            for p in self.d_params.values():
                p.requires_grad_(not frozen)

        return StepParts(G=lambda z, y: vG(self.g_params, self.g_buffers, z, y),
                         D=lambda x, y: vD(self.d_params, self.d_buffers, x, y),
                         D_for_g=lambda x, y: vD(self.d_params, self.d_buffers, x, y),
                         opt_g=self.adam_g, opt_d=self.adam_d, losses=(vmap(d_loss), vmap(g_loss)), freeze_d=freeze_d,
                         l1=(lambda x, fake: weights * v_l1(x, fake)) if bool(weights.any()) else None,
                         grad_norm=lambda adam: _member_grad_norms(adam.params))

    # ----- stacking and syncing ----------------------------------------------------------------------
    @staticmethod
    def _stack(modules: list[nn.Module], layout: PaddedLayout,
               trainable: bool = True) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """(parameters, buffers) of the modules stacked by name into (K, ...) tensors in the group's layout."""
        params = {n: torch.stack([layout.pad(n, k, dict(m.named_parameters())[n].detach())
                                  for k, m in enumerate(modules)]).requires_grad_(trainable)
                  for n, _ in modules[0].named_parameters()}
        buffers = {n: torch.stack([layout.pad(n, k, dict(m.named_buffers())[n]) for k, m in enumerate(modules)])
                   for n, _ in modules[0].named_buffers()}
        return params, buffers

    def _load_optimiser_states(self) -> None:
        for k, m in enumerate(self.members):
            for module, opt, adam, layout in ((m.G, m.opt_g, self.adam_g, self.g_layout),
                                              (m.D, m.opt_d, self.adam_d, self.d_layout)):
                for name, p in module.named_parameters():
                    state = opt.state.get(p)
                    if state:
                        adam.load_model_state(name, k, {"step": state["step"],
                                                        "exp_avg": layout.pad(name, k, state["exp_avg"]),
                                                        "exp_avg_sq": layout.pad(name, k, state["exp_avg_sq"])})

    @torch.no_grad()
    def sync(self) -> None:
        """Copy the stacked weights, buffers, Adam states and EMAs into every member."""
        step = self.members[0].step
        if self._synced_step == step:
            return
        self._synced_step = step
        for k, m in enumerate(self.members):
            for module, opt, adam, layout, params, buffers in (
                    (m.G, m.opt_g, self.adam_g, self.g_layout, self.g_params, self.g_buffers),
                    (m.D, m.opt_d, self.adam_d, self.d_layout, self.d_params, self.d_buffers)):
                for name, p in module.named_parameters():
                    p.copy_(layout.unpad(name, k, params[name][k]))
                    state = adam.model_state(name, k)
                    if state is not None:
                        state["exp_avg"] = layout.unpad(name, k, state["exp_avg"])
                        state["exp_avg_sq"] = layout.unpad(name, k, state["exp_avg_sq"])
                        opt.state[p] = state
                for name, b in module.named_buffers():
                    b.copy_(layout.unpad(name, k, buffers[name][k]))
            if self.ema is not None:
                stacked = {**self.ema[0], **self.ema[1]}
                for name, t in (*m.ema.module.named_parameters(), *m.ema.module.named_buffers()):
                    t.copy_(self.g_layout.unpad(name, k, stacked[name][k]))

    # ----- one iteration ---------------------------------------------------------------------------
    def _inputs(self) -> StepInputs:
        """Each member's inputs, drawn by ``draw_inputs`` from its own sampler and generator, stacked to
        (K, B, ...); noise zero-padded to the group's z width."""
        t = self.cfg.train
        per_model = [draw_inputs(m.sampler, m.rng, m.batch_index, t.d_steps, t.g_steps, m.cfg.model.z_dim)
                     for m in self.members]
        columns = zip(*(inputs.tensors() for inputs in per_model))
        stacked = [torch.stack([self._pad_noise(v) if v.dim() == 2 and v.is_floating_point() else v for v in col])
                   for col in columns]
        return per_model[0].like(stacked)

    def _pad_noise(self, z: torch.Tensor) -> torch.Tensor:
        if z.shape[1] == self.z_max:
            return z
        return torch.cat([z, z.new_zeros(z.shape[0], self.z_max - z.shape[1])], 1)

    def _apply_lr_schedule(self) -> None:
        """The stacked Adams take the members' learning rates, which the loop set by their schedule."""
        lrs = ([float(m.opt_g.param_groups[0]["lr"]) for m in self.members],
               [float(m.opt_d.param_groups[0]["lr"]) for m in self.members])
        if lrs == self._lrs:
            return
        self._lrs = lrs
        self.adam_g.set_lrs(lrs[0])
        self.adam_d.set_lrs(lrs[1])

    def iteration(self) -> int:
        """The members' iteration, all at once; their stats go to the (len(STATS), K) tally. Returns the D steps
        each member took."""
        self._apply_lr_schedule()
        gan_update(self.parts, self._inputs(), self.cfg.train, self.tally, self.autocast)
        if self.ema is not None:
            lead = self.members[0]
            params, buffers = self.ema
            average_into(params.values(), self.g_params.values(), buffers.values(), self.g_buffers.values(),
                         lead.ema.decay_at(lead.step))
        return self.cfg.train.d_steps


class PackedTrainer:
    """Trains ``cfgs`` (configs equal up to per-model keys and z_dim) into ``run_dirs`` as one computation:
    K ordinary Trainers (each its own seed, data order, noise, schedules and run directory) driven by the one
    training loop through a ``PackedStep``."""

    def __init__(self, cfgs: list[Config], run_dirs: list[Path], data: Optional[DataSplits] = None,
                 resume: bool = False):
        device = resolve_device(cfgs[0].device)
        data = _device_data(data if data is not None else load_data(cfgs[0].data), device)
        for cfg, run_dir in zip(cfgs, run_dirs):
            open_run(run_dir, RunPlan("continue" if resume else "start", cfg))
        self.members = [Trainer(eager_when_auto(cfg), run_dir, data) for cfg, run_dir in zip(cfgs, run_dirs)]
        if resume:
            for m in self.members:
                m.load_state_dict(load_checkpoint(m.run_dir, map_location=device))
            if len({m.step for m in self.members}) != 1:
                raise GanlabError("packed members resume from different steps; re-run with backend: sequential")
        self.resumed = resume
        self.step = PackedStep(self.members, resume)

    def run(self, progress: bool = False, stop_after_steps: Optional[int] = None) -> dict[int, Optional[str]]:
        """Train every member to the budget (or ``stop_after_steps`` more iterations); returns member index -> None
        (finished or stopped) or the divergence message."""
        outcome = TrainingLoop(self.members, self.step).run(resumed=self.resumed, stop_after_steps=stop_after_steps,
                                                            progress=progress)
        return {i: outcome.errors.get(i) for i in range(len(self.members))}


def _member_grad_norms(params: dict[str, torch.Tensor]) -> torch.Tensor:
    """(K,) global L2 gradient norm of each member's slice of stacked parameters (as ``grad_norm`` per model)."""
    squares = [p.grad.detach().float().pow(2).flatten(1).sum(1) for p in params.values() if p.grad is not None]
    return torch.stack(squares).sum(0).sqrt()


def plan_groups(jobs: list[Job], pack_size: int, pad_latent: bool) -> list[list[Job]]:
    """Jobs grouped by pack key (z_dim merged where padding is verified exact), resumable groups kept apart,
    each group cut into chunks of at most ``pack_size``."""
    by_key: dict[tuple[str, bool], list[Job]] = defaultdict(list)
    for job in jobs:
        by_key[(pack_key(job.point.cfg, pad_latent), job.resume)].append(job)
    groups: list[list[Job]] = []
    for (_, resume), members in by_key.items():
        z_dims = [j.point.cfg.model.z_dim for j in members]
        if pad_latent and len(set(z_dims)) > 1:
            cfg = members[0].point.cfg
            spec = load_data(cfg.data).spec
            if not padding_is_exact(cfg, spec, z_dims):
                groups += plan_groups(members, pack_size, pad_latent=False)
                continue
        if resume:  # members resume together only from one step: keep each apart unless steps agree
            by_step: dict[int, list[Job]] = defaultdict(list)
            for j in members:
                by_step[int(load_checkpoint(j.run_dir)["step"])].append(j)
            for same in by_step.values():
                groups += chunks(same, pack_size)
        else:
            groups += chunks(sorted(members, key=lambda j: j.point.cfg.model.z_dim), pack_size)
    return groups


def run_packed(jobs: list[Job], on_start: OnStart, on_done: OnDone, progress: bool, pack_size: int = 0,
               pad_latent: bool = True) -> None:
    """Train the jobs as packed groups, one group after another."""
    for group in plan_groups(jobs, pack_size, pad_latent):
        for job in group:
            on_start(job)
        trainer = PackedTrainer([j.plan.cfg for j in group], [j.run_dir for j in group],
                                resume=group[0].resume)
        outcome = trainer.run(progress)
        for i, job in enumerate(group):
            on_done(job, outcome[i])
