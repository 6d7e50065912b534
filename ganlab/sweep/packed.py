"""The packed backend: K models of one family and shape trained at once, as one batched computation.

Each member is an ordinary ``Trainer`` (its seed's initial weights, data order, noise generator,
schedules and run directory); only the iteration's math is batched: the members' weights are stacked
into (K, ...) tensors and G and D run under ``torch.func.vmap`` over ``functional_call``, with
BatchNorm's running statistics stacked as well (vmap updates each member's slice in place), and one
``StackedAdam`` steps all members with their own learning rates and betas. The members' modules and
optimisers are synced back before anything reads them (logs, epoch-end grids and exports,
checkpoints), so every run directory is the one sequential training would have written, and any
member can later be resumed alone with ``ganlab train --resume``.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from pathlib import Path
from typing import Optional

import torch
import torch.nn as nn
from torch.func import functional_call, vmap

from ganlab.config import Config
from ganlab.data import DataSplits, ImageSet, load_data, to_unit_range
from ganlab.data.augment import is_active
from ganlab.errors import GanlabError
from ganlab.losses import l1_reconstruction
from ganlab.models import build_models
from ganlab.sweep.packing import PaddedLayout, chunks, pack_key, padding_is_exact
from ganlab.sweep.runner import Job, OnDone, OnStart
from ganlab.sweep.stacked_adam import StackedAdam
from ganlab.train import Trainer, TrainingDiverged
from ganlab.train.checkpoint import load_checkpoint
from ganlab.devices import resolve_device
from ganlab.train.loop import _progress
from ganlab.train.metrics_log import MetricsLog
from ganlab.train.rundir import prepare_run_dir, write_config
from ganlab.train.schedule import lr_factor, set_lr
from ganlab.train.step import FIGURES, autocast_context, iteration_figures


def _refuse_unpackable(module: nn.Module, what: str) -> None:
    """Parametrisations (spectral norm) and hooks are not carried by functional_call + vmap as they are."""
    from torch.nn.utils import parametrize

    for name, m in module.named_modules():
        if parametrize.is_parametrized(m) or m._forward_pre_hooks or m._forward_hooks:
            raise GanlabError(f"the packed backend cannot batch {what} module '{name or type(m).__name__}' "
                              f"(parametrisation or hook); use backend: sequential for this sweep")


CARRIED_STATE = {"step", "batch_index", "G", "D", "opt_g", "opt_d", "G_ema", "advantage", "rng", "torch_rng",
                 "world_size"}  # what packing reproduces (G_ema only when off, advantage only when fixed)


def _refuse_uncarried_state(trainer: Trainer) -> None:
    """A Trainer feature whose state packing does not update (an EMA copy, an adaptive D-step rule, an
    evaluation history) is refused, so that packing never writes a run that sequential training would not have
    written."""
    extra = sorted(set(trainer.state_dict()) - CARRIED_STATE)
    t = trainer.cfg.train
    extra += ["G_ema (train.ema_decay > 0)"] if trainer.ema is not None else []
    extra += ["advantage (train.adaptive_d_steps)"] if t.adaptive_d_steps else []
    extra += ["gradient penalty (train.loss=wgan-gp)"] if t.loss == "wgan-gp" else []
    if extra:
        raise GanlabError(f"the packed backend does not carry the training state {', '.join(extra)}; "
                          f"use backend: sequential for this sweep")
    if trainer.cfg.eval.every > 0:
        raise GanlabError("the packed backend does not evaluate during training (eval.every > 0); set "
                          "eval.every=0 and evaluate the points after training, or use backend: sequential")


def _device_data(data: DataSplits, device: torch.device) -> DataSplits:
    """The training images moved to the device once, shared by every member's sampler."""
    train = ImageSet(data.train.images.to(device), data.train.labels.to(device), data.train.class_names)
    return DataSplits(train=train, test=data.test, name=data.name)


class PackedTrainer:
    """Trains ``cfgs`` (configs equal up to per-model keys and z_dim) into ``run_dirs`` as one computation."""

    def __init__(self, cfgs: list[Config], run_dirs: list[Path], data: Optional[DataSplits] = None,
                 resume: bool = False):
        self.device = resolve_device(cfgs[0].device)
        data = _device_data(data if data is not None else load_data(cfgs[0].data), self.device)
        if not resume:
            for cfg, run_dir in zip(cfgs, run_dirs):
                prepare_run_dir(run_dir, overwrite=True)
                write_config(run_dir, cfg)
        self.members = [Trainer(cfg, run_dir, data) for cfg, run_dir in zip(cfgs, run_dirs)]
        _refuse_uncarried_state(self.members[0])
        if resume:
            for m in self.members:
                m.load_state_dict(load_checkpoint(m.run_dir, map_location=self.device))
            if len({m.step for m in self.members}) != 1:
                raise GanlabError("packed members resume from different steps; re-run with backend: sequential")
        lead = self.members[0]
        self.cfg, self.spec, self.step = lead.cfg, lead.spec, lead.step
        self.total_steps, self.iters_per_epoch = lead.total_steps, lead.iters_per_epoch
        self.autocast = autocast_context(self.cfg.train.precision, self.device)  # a factory, as in train/step.py
        self.augmented = is_active(self.cfg.data.augment)
        self.images, self.labels = lead.sampler.images, lead.sampler.labels  # shared by every member's sampler
        self.d_loss_fn, self.g_loss_fn = lead.d_loss_fn, lead.g_loss_fn
        self.z_dims = [m.cfg.model.z_dim for m in self.members]
        self.z_max = max(self.z_dims)
        self.l1 = torch.tensor([m.cfg.train.l1_weight for m in self.members], device=self.device)
        self.use_l1 = any(m.cfg.train.l1_weight for m in self.members)  # a Python bool: no device sync per step
        self.diverged: dict[int, str] = {}
        self._lr_factor: Optional[float] = None  # the schedule factor the stacked Adams hold
        self._synced_step = -1

        g_base, d_base = build_models(dataclasses.replace(self.cfg.model, z_dim=self.z_max), self.spec)
        _refuse_unpackable(g_base, "generator")
        _refuse_unpackable(d_base, "discriminator")
        self.g_base, self.d_base = g_base.to("meta"), d_base.to("meta")  # structure only; weights are stacked
        self.g_layout = PaddedLayout(_shapes(g_base), [_shapes(m.G) for m in self.members], self.z_dims, self.z_max)
        self.d_layout = PaddedLayout(_shapes(d_base), [_shapes(m.D) for m in self.members], self.z_dims, self.z_max)
        self.g_params, self.g_buffers = self._stack([m.G for m in self.members], self.g_layout)
        self.d_params, self.d_buffers = self._stack([m.D for m in self.members], self.d_layout)
        self.adam_g = StackedAdam(self.g_params, [float(m.opt_g.param_groups[0]["lr"]) for m in self.members],
                                  [m.opt_g.param_groups[0]["betas"] for m in self.members])
        self.adam_d = StackedAdam(self.d_params, [float(m.opt_d.param_groups[0]["lr"]) for m in self.members],
                                  [m.opt_d.param_groups[0]["betas"] for m in self.members])
        if resume:
            self._load_optimiser_states()
        self.vG = vmap(lambda p, b, z, y: functional_call(self.g_base, (p, b), (z, y)))
        self.vD = vmap(lambda p, b, x, y: functional_call(self.d_base, (p, b), (x, y)))
        self.v_d_loss, self.v_g_loss = vmap(self.d_loss_fn), vmap(self.g_loss_fn)
        self.v_l1 = vmap(l1_reconstruction)

    # ----- stacking and syncing ----------------------------------------------------------------------
    def _stack(self, modules: list[nn.Module], layout: PaddedLayout) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        params = {n: torch.stack([layout.pad(n, k, dict(m.named_parameters())[n].detach())
                                  for k, m in enumerate(modules)]).requires_grad_()
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
        """Copy the stacked weights, buffers and Adam states into every member's modules and optimisers."""
        if self._synced_step == self.step:
            return
        self._synced_step = self.step
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

    # ----- one iteration ---------------------------------------------------------------------------
    def _inputs(self, index: Optional[int]) -> tuple[Optional[torch.Tensor], Optional[torch.Tensor], torch.Tensor]:
        """Each member's batch ``index`` (None: no new batch) then its noise, from its own generator, in the
        order its Trainer draws them; stacked to (K, B, ...), noise zero-padded to the group's z width."""
        x = y = None
        if index is not None and not self.augmented:  # one gather for all members: same values, fewer kernels
            idx = torch.stack([m.sampler.indices(index) for m in self.members])  # (K, B)
            x, y = to_unit_range(self.images[idx]), self.labels[idx]
        elif index is not None:
            batches = [m.sampler.batch(index, m.rng) for m in self.members]  # augmentation draws from m.rng
            x, y = torch.stack([b[0] for b in batches]), torch.stack([b[1] for b in batches])
        n = self.cfg.train.batch_size
        zs = [torch.randn(n, m.cfg.model.z_dim, device=self.device, generator=m.rng) for m in self.members]
        if all(z.shape[1] == self.z_max for z in zs):
            return x, y, torch.stack(zs)
        z = torch.zeros(len(zs), n, self.z_max, device=self.device)
        for k, zk in enumerate(zs):
            z[k, :, :zk.shape[1]] = zk
        return x, y, z

    def _apply_lr_schedule(self) -> None:
        """Each member's learning rates for this iteration (the Trainer's schedule), in the stacked Adams too."""
        t = self.cfg.train
        factor = lr_factor(t, self.step, self.iters_per_epoch, self.total_steps)
        if factor == self._lr_factor:
            return
        self._lr_factor = factor
        for m in self.members:
            set_lr(m.opt_g, m.cfg.train.lr_g * factor)
            set_lr(m.opt_d, m.cfg.train.lr_d * factor)
        self.adam_g.set_lrs([m.cfg.train.lr_g * factor for m in self.members])
        self.adam_d.set_lrs([m.cfg.train.lr_d * factor for m in self.members])

    def iteration(self) -> dict[str, torch.Tensor]:
        """The Trainer's iteration for all members at once; figures are (K,) tensors."""
        t = self.cfg.train
        self._apply_lr_schedule()
        for j in range(t.d_steps):
            x, y, z = self._inputs(self.step * t.d_steps + j)
            last = j == t.d_steps - 1
            with self.autocast():
                with torch.set_grad_enabled(last):  # the last fake is reused by the first G update
                    fake = self.vG(self.g_params, self.g_buffers, z, y)
                real_logits = self.vD(self.d_params, self.d_buffers, x, y)
                fake_logits = self.vD(self.d_params, self.d_buffers, fake.detach(), y)
                loss_d = self.v_d_loss(real_logits.float(), fake_logits.float())  # (K,)
            self.adam_d.zero_grad()
            loss_d.sum().backward()  # members are independent: each slice gets its own gradient
            if last:
                grad_norm_d = _member_grad_norms(self.d_params)
            self.adam_d.step()
        for k in range(t.g_steps):
            if k > 0:
                with self.autocast():
                    fake = self.vG(self.g_params, self.g_buffers, self._inputs(None)[2], y)
            with self.autocast():
                frozen_d = {n: p.detach() for n, p in self.d_params.items()}  # no D gradients in G's steps
                loss_g = self.v_g_loss(self.vD(frozen_d, self.d_buffers, fake, y).float())
                if self.use_l1:
                    loss_g = loss_g + self.l1 * self.v_l1(x, fake.float())
            self.adam_g.zero_grad()
            loss_g.sum().backward()
            grad_norm_g = _member_grad_norms(self.g_params)
            self.adam_g.step()
        figures = iteration_figures(loss_d, loss_g, real_logits, fake_logits, grad_norm_d, grad_norm_g)
        return dict(zip(FIGURES, figures.unbind()))

    # ----- the loop ----------------------------------------------------------------------------------
    def run(self, progress: bool = False) -> dict[int, Optional[str]]:
        """Train every member to the budget; returns member index -> None (finished) or the divergence message."""
        t = self.cfg.train
        resumed = self.step > 0
        logs = [MetricsLog(m.run_dir, resume_step=self.step if resumed else None) for m in self.members]
        t0 = time.perf_counter()
        sums: dict[str, torch.Tensor] = {}
        bad_step = torch.full((len(self.members),), -1, device=self.device)
        last_log_time, last_log_step = t0, self.step
        bar = _progress(progress, self.total_steps, self.step)
        for m in self.members:
            m._write_status("running")
        while self.step < self.total_steps:
            figures = self.iteration()
            finite = torch.isfinite(figures["loss_d"]) & torch.isfinite(figures["loss_g"])
            bad_step = torch.where((bad_step < 0) & ~finite, self.step, bad_step)
            for k, v in figures.items():
                sums[k] = sums[k] + v if k in sums else v.clone()
            self.step += 1
            for m in self.members:
                m.step, m.batch_index = self.step, self.step * t.d_steps
            bar.update(1)
            epoch_end = self.step % self.iters_per_epoch == 0
            if self.step % t.log_every == 0 or epoch_end or self.step == self.total_steps:
                self.sync()
                self._check_finite(bad_step)
                now = time.perf_counter()
                n = self.step - last_log_step
                means = {k: (v / n).tolist() for k, v in sums.items()}
                for i, (m, log) in enumerate(zip(self.members, logs)):
                    if i in self.diverged:
                        continue
                    log.write({"step": self.step, "epoch": self.step / self.iters_per_epoch,
                               **{k: v[i] for k, v in means.items()}, **m._heldout_figures(),
                               "lr_g": float(m.opt_g.param_groups[0]["lr"]),
                               "lr_d": float(m.opt_d.param_groups[0]["lr"]),
                               "d_steps": float(t.d_steps),
                               "step_time_s": (now - last_log_time) / n,
                               "images_per_s": n * t.batch_size * t.d_steps / (now - last_log_time),
                               "time_s": now - t0, "packed_models": len(self.members)})
                sums, last_log_time, last_log_step = {}, now, self.step
            if epoch_end:
                self.sync()
                for i, m in enumerate(self.members):
                    if i not in self.diverged:
                        m._end_of_epoch()  # grid, export: reads the synced modules
            if epoch_end or (t.checkpoint_every and self.step % t.checkpoint_every == 0) \
                    or self.step == self.total_steps:
                self.sync()
                self._check_finite(bad_step)
                for i, m in enumerate(self.members):
                    if i not in self.diverged:
                        try:
                            m.save()  # refuses non-finite weights, as in sequential training
                        except TrainingDiverged as e:
                            self.diverged[i] = str(e)
        bar.close()
        elapsed = time.perf_counter() - t0
        for i, m in enumerate(self.members):
            if i not in self.diverged:
                m._write_status("finished", train_time_s=elapsed, packed_models=len(self.members))
        return {i: self.diverged.get(i) for i in range(len(self.members))}

    def _check_finite(self, bad_step: torch.Tensor) -> None:
        """Mark members whose loss became NaN/inf as diverged (their Trainer writes the status)."""
        for i, step in enumerate(bad_step.tolist()):
            if step >= 0 and i not in self.diverged:
                try:
                    self.members[i].tally.first_bad.fill_(step)
                    self.members[i]._check_finite()  # writes the member's status and raises
                except TrainingDiverged as e:
                    self.diverged[i] = str(e)


def _member_grad_norms(params: dict[str, torch.Tensor]) -> torch.Tensor:
    """(K,) global L2 gradient norm of each member's slice of stacked parameters (as ``grad_norm`` per model)."""
    squares = [p.grad.detach().float().pow(2).flatten(1).sum(1) for p in params.values() if p.grad is not None]
    return torch.stack(squares).sum(0).sqrt()


def _shapes(module: nn.Module) -> dict[str, torch.Size]:
    return {n: t.shape for n, t in module.state_dict().items()}


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
        trainer = PackedTrainer([j.point.cfg for j in group], [j.run_dir for j in group],
                                resume=group[0].resume)
        outcome = trainer.run(progress)
        for i, job in enumerate(group):
            on_done(job, outcome[i])
