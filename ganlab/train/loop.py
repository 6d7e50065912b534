"""The one training loop: D and G updates, logging, grids, checkpoints, resume."""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import torch
import torch.nn as nn

from ganlab.config import Config
from ganlab.data import BatchSampler, DataSplits, load_data, to_uint8, to_unit_range
from ganlab.errors import GanlabError
from ganlab.io import atomic_write_json
from ganlab.losses import LOSSES, l1_reconstruction
from ganlab.models import build_models
from ganlab.models.export import export_path, save_generator
from ganlab.models.sampling import generate, latents_for_seeds
from ganlab.train.checkpoint import load_checkpoint, save_checkpoint
from ganlab.train.evaluation import TrainingEvaluator
from ganlab.images import save_grid
from ganlab.train.metrics_log import MetricsLog

HELDOUT_SIZE = 512  # held-out images scored by D at each log record


class TrainingDiverged(GanlabError):
    """A loss became NaN or inf; the last good checkpoint is kept."""


@dataclass
class TrainResult:
    run_dir: Path
    step: int  # iterations done
    finished: bool  # False when stopped early by a session limit (resume to continue)


def resolve_device(name: str) -> torch.device:
    """'auto' -> cuda when available, else cpu; anything else as given (refused if absent)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanlabError(f"device={name} but no CUDA device is available; use device=cpu or device=auto")
    return device


class Trainer:
    """Owns the data sampler, both networks, their optimisers and schedules, and the run directory."""

    def __init__(self, cfg: Config, run_dir: Path, data: Optional[DataSplits] = None):
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        self.device = resolve_device(cfg.device)
        self.data = data if data is not None else load_data(cfg.data)
        self.spec = self.data.spec
        t = cfg.train

        torch.manual_seed(cfg.seed)
        g, d = build_models(cfg.model, self.spec)
        self.G: nn.Module = g.to(self.device)
        self.D: nn.Module = d.to(self.device)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=t.lr_g, betas=tuple(t.betas_g))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=t.lr_d, betas=tuple(t.betas_d))
        self.schedulers = [torch.optim.lr_scheduler.StepLR(o, t.lr_step_epochs, t.lr_step_factor)
                           for o in (self.opt_g, self.opt_d)] if t.lr_step_epochs else []
        self.d_loss_fn, self.g_loss_fn = LOSSES[t.loss]

        self.sampler = BatchSampler(self.data.train, t.batch_size, cfg.data.augment, self.device, cfg.seed)
        self.iters_per_epoch = max(1, self.sampler.batches_per_epoch // t.d_steps)
        self.total_steps = t.steps if t.steps > 0 else t.epochs * self.iters_per_epoch
        self.rng = torch.Generator(device=self.device).manual_seed(cfg.seed + 1)  # noise + augmentation
        self.step = 0
        self.autocast = (torch.autocast(self.device.type, dtype=torch.bfloat16)
                         if t.precision == "bf16" else contextlib.nullcontext())
        self._grid_inputs = self._fixed_grid_inputs()
        self._heldout = self._heldout_batch()
        self.evaluator = TrainingEvaluator(cfg, self.run_dir, self.spec, self.device)

    # ----- fixed inputs -------------------------------------------------------------------------
    def _fixed_grid_inputs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One row per class, the same latent in each column (seeds 0..columns-1)."""
        cols = self.cfg.train.grid_columns
        rows = max(1, self.spec.num_classes)
        z = latents_for_seeds(range(cols), self.cfg.model.z_dim, self.device).repeat(rows, 1)
        y = torch.arange(rows, device=self.device).repeat_interleave(cols)
        return z, y

    def _heldout_batch(self) -> Optional[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        split = self.data.test
        if split is None or len(split) == 0:
            return None
        n = min(HELDOUT_SIZE, len(split))
        x = to_unit_range(split.images[:n]).to(self.device)
        y = split.labels[:n].to(self.device)
        z = torch.randn(n, self.cfg.model.z_dim, generator=torch.Generator().manual_seed(self.cfg.seed + 2)).to(self.device)
        return x, y, z

    # ----- one iteration ------------------------------------------------------------------------
    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.model.z_dim, device=self.device, generator=self.rng)

    def _iteration(self) -> dict[str, torch.Tensor]:
        """d_steps discriminator updates, then g_steps generator updates; returns device-side figures."""
        t = self.cfg.train
        for j in range(t.d_steps):
            x, y = self.sampler.batch(self.step * t.d_steps + j, self.rng)
            last = j == t.d_steps - 1
            with self.autocast:
                with torch.set_grad_enabled(last):  # the last fake is reused by the first G update
                    fake = self.G(self._noise(x.shape[0]), y)
                real_logits = self.D(x, y)
                fake_logits = self.D(fake.detach(), y)
                loss_d = self.d_loss_fn(real_logits.float(), fake_logits.float())
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
        for k in range(t.g_steps):
            if k > 0:
                with self.autocast:
                    fake = self.G(self._noise(x.shape[0]), y)
            with self.autocast:
                loss_g = self.g_loss_fn(self.D(fake, y).float())
                if t.l1_weight:
                    loss_g = loss_g + t.l1_weight * l1_reconstruction(x, fake.float())
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
        real_logits, fake_logits = real_logits.detach().float(), fake_logits.detach().float()
        return {
            "loss_d": loss_d.detach().float(), "loss_g": loss_g.detach().float(),
            "d_real": torch.sigmoid(real_logits).mean(), "d_fake": torch.sigmoid(fake_logits).mean(),
            "acc_real": (real_logits > 0).float().mean(), "acc_fake": (fake_logits < 0).float().mean(),
        }

    @torch.no_grad()
    def _heldout_figures(self) -> dict[str, float]:
        if self._heldout is None:
            return {}
        x, y, z = self._heldout
        self.G.eval(), self.D.eval()
        real_logits = self.D(x, y).float()
        fake_logits = self.D(generate(self.G, z, y), y).float()
        self.G.train(), self.D.train()
        return {
            "heldout_loss_d": self.d_loss_fn(real_logits, fake_logits).item(),
            "heldout_d_real": torch.sigmoid(real_logits).mean().item(),
            "heldout_d_fake": torch.sigmoid(fake_logits).mean().item(),
            "heldout_acc_real": (real_logits > 0).float().mean().item(),
            "heldout_acc_fake": (fake_logits < 0).float().mean().item(),
        }

    # ----- state ----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "G": self.G.state_dict(), "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "schedulers": [s.state_dict() for s in self.schedulers],
            "rng": self.rng.get_state(), "torch_rng": torch.get_rng_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for s, sd in zip(self.schedulers, state["schedulers"]):
            s.load_state_dict(sd)
        self.rng.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])

    def save(self) -> None:
        """Resume checkpoint, latest generator export and status, all atomic; refused for non-finite weights."""
        for name, net in (("G", self.G), ("D", self.D)):
            if not all(torch.isfinite(p).all() for p in net.parameters()):
                self._write_status("diverged", bad_step=self.step)
                raise TrainingDiverged(f"{name}'s weights became NaN/inf by iteration {self.step}; the last good "
                                       f"checkpoint in {self.run_dir / 'checkpoints'} is kept; lower the learning "
                                       f"rates or change train.loss")
        save_checkpoint(self.run_dir, self.state_dict())
        save_generator(export_path(self.run_dir), self.G, self.cfg, self.spec, {"step": self.step, "epoch": self.epoch})
        self._write_status("running")

    def _write_status(self, state: str, **extra: Any) -> None:
        atomic_write_json(self.run_dir / "status.json",
                          {"state": state, "step": self.step, "total_steps": self.total_steps,
                           "epoch": self.epoch, **extra})

    @property
    def epoch(self) -> int:
        """Completed epochs (fractional steps not counted)."""
        return self.step // self.iters_per_epoch

    # ----- epoch-end work --------------------------------------------------------------------------
    def _end_of_epoch(self) -> None:
        for s in self.schedulers:
            s.step()
        z, y = self._grid_inputs
        images = to_uint8(generate(self.G, z, y))
        scale = max(1, 128 // self.spec.resolution)
        save_grid(self.run_dir / "samples" / f"epoch_{self.epoch:04d}.png", images, self.cfg.train.grid_columns, scale)
        every = self.cfg.train.export_every
        if every and self.epoch % every == 0:
            save_generator(export_path(self.run_dir, self.epoch), self.G, self.cfg,
                           self.spec, {"step": self.step, "epoch": self.epoch})

    # ----- the loop ----------------------------------------------------------------------------------
    def run(self, resume: bool = False, stop_after_steps: Optional[int] = None,
            stop_after_minutes: Optional[float] = None, progress: bool = True) -> TrainResult:
        """Train to the budget (or until a session limit), checkpointing at epoch ends."""
        if resume:
            self.load_state_dict(load_checkpoint(self.run_dir, map_location=self.device))
        log = MetricsLog(self.run_dir, resume_step=self.step if resume else None)
        self.evaluator.restore()
        t = self.cfg.train
        start_step, t0 = self.step, time.perf_counter()
        deadline = t0 + stop_after_minutes * 60 if stop_after_minutes else math.inf
        sums: dict[str, torch.Tensor] = {}
        bad_step = torch.tensor(-1, device=self.device)
        last_log_time, last_log_step = t0, self.step
        bar = _progress(progress, self.total_steps, self.step)
        self._write_status("running")
        while self.step < self.total_steps:
            figures = self._iteration()
            finite = torch.isfinite(figures["loss_d"]) & torch.isfinite(figures["loss_g"])
            bad_step = torch.where((bad_step < 0) & ~finite, torch.tensor(self.step, device=self.device), bad_step)
            for k, v in figures.items():
                sums[k] = sums[k] + v if k in sums else v.clone()
            self.step += 1
            bar.update(1)
            epoch_end = self.step % self.iters_per_epoch == 0
            if self.step % t.log_every == 0 or epoch_end or self.step == self.total_steps:
                self._check_finite(bad_step)
                now = time.perf_counter()
                n = self.step - last_log_step
                record = {"step": self.step, "epoch": self.step / self.iters_per_epoch,
                          **{k: (v / n).item() for k, v in sums.items()}, **self._heldout_figures(),
                          "lr_g": self.opt_g.param_groups[0]["lr"], "lr_d": self.opt_d.param_groups[0]["lr"],
                          "step_time_s": (now - last_log_time) / n,
                          "images_per_s": n * t.batch_size * t.d_steps / (now - last_log_time),
                          "time_s": now - t0}
                log.write(record)
                bar.set_postfix(loss_d=f"{record['loss_d']:.3f}", loss_g=f"{record['loss_g']:.3f}",
                                d_real=f"{record['d_real']:.2f}", d_fake=f"{record['d_fake']:.2f}")
                sums, last_log_time, last_log_step = {}, now, self.step
            if epoch_end:
                self._end_of_epoch()
            if epoch_end or (t.checkpoint_every and self.step % t.checkpoint_every == 0) or self.step == self.total_steps:
                self._check_finite(bad_step)
                self.save()
            if epoch_end and self.evaluator.due(self.epoch) and self.evaluator.evaluate(self, log.write):
                break  # early stop: no better FID in eval.patience evaluations
            session_over = (stop_after_steps is not None and self.step - start_step >= stop_after_steps) \
                or time.perf_counter() > deadline
            if session_over and self.step < self.total_steps:
                self._check_finite(bad_step)
                self.save()
                self._write_status("paused")
                bar.close()
                return TrainResult(self.run_dir, self.step, finished=False)
        bar.close()
        self._write_status("finished", train_time_s=time.perf_counter() - t0, **self.evaluator.summary())
        return TrainResult(self.run_dir, self.step, finished=True)

    def _check_finite(self, bad_step: torch.Tensor) -> None:
        step = int(bad_step.item())
        if step >= 0:
            self._write_status("diverged", bad_step=step + 1)
            raise TrainingDiverged(f"loss became NaN/inf at iteration {step + 1}; the last good checkpoint in "
                                   f"{self.run_dir / 'checkpoints'} is kept; lower the learning rates or change "
                                   f"train.loss")


def _progress(enabled: bool, total: int, initial: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, unit="it", dynamic_ncols=True, leave=False)
