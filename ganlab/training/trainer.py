"""One model's training state and its run directory; the loop that drives it is ``ganlab.training.loop``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import torch
import torch.nn as nn

from ganlab.config import Config
from ganlab.data import BatchSampler, DataSplits, load_data, to_uint8, to_unit_range
from ganlab.devices import resolve_device, use_allowed_cores
from ganlab.errors import GanlabError, TrainingDiverged
from ganlab.folders import RunDir
from ganlab.images import class_label, save_labelled_grid
from ganlab.io import atomic_write_json
from ganlab.losses import LOSSES
from ganlab.models import build_models
from ganlab.models.export import save_generator
from ganlab.models.generation import generate, latents_for_seeds
from ganlab.models.normalization import as_in_training
from ganlab.training import distributed, fastpath
from ganlab.training.advantage import DiscriminatorAdvantage
from ganlab.training.checkpoint import load_checkpoint, save_checkpoint
from ganlab.training.ema import GeneratorEMA
from ganlab.training.evaluation import TrainingEvaluator
from ganlab.training.loop import OneModelStep, TrainingLoop
from ganlab.training.schedule import lr_factor, set_lr
from ganlab.training.step import STATS, Tally, autocast_context, draw_inputs, gan_update, model_parts, stateless
from ganlab.training.tensorboard import summary_writer

HELDOUT_SIZE = 512  # held-out images scored by D at each log record


@dataclass
class TrainResult:
    run_dir: Path
    step: int  # iterations done
    finished: bool  # False when stopped early by a session limit (resume to continue)
    main_process: bool = True  # False on the DDP ranks that do not write the run directory


class Trainer:
    """One model's training: its data sampler, both networks, their optimisers, schedules, EMA and D-step rule,
    its noise generator and its run directory. ``run()`` trains it with the one loop (``ganlab.training.loop``);
    the packed backend drives several Trainers through that same loop with a batched step."""

    def __init__(self, cfg: Config, run_dir: Path, data: Optional[DataSplits] = None):
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        self.files = RunDir(run_dir)
        self.dist = distributed.current()
        if cfg.train.tensorboard:  # a missing tensorboard package: refused before training, not at the first record
            summary_writer()
        self.device = distributed.rank_device(resolve_device(cfg.device), self.dist)
        if self.device.type == "cpu" and self.dist.world_size == 1:
            use_allowed_cores()
        self.fast_path = fastpath.resolve_mode(cfg.train.fast_path, self.device, self.dist.world_size,
                                               varying_d_steps=cfg.train.adaptive_d_steps)
        self.data = data if data is not None else load_data(cfg.data)
        self.spec = self.data.spec
        t = cfg.train

        torch.manual_seed(cfg.seed)
        g, d = build_models(cfg.model, self.spec)
        self.G: nn.Module = g.to(self.device)
        self.D: nn.Module = d.to(self.device)
        channels_last = fastpath.to_channels_last(self.fast_path, self.device, self.G, self.D)
        self.opt_g = fastpath.make_adam(self.G.parameters(), t.lr_g, t.betas_g, self.fast_path, self.device)
        self.opt_d = fastpath.make_adam(self.D.parameters(), t.lr_d, t.betas_d, self.fast_path, self.device)
        self.ema = GeneratorEMA(self.G, t.ema_decay, t.ema_start) if t.ema_decay > 0 else None
        self.d_loss_fn, self.g_loss_fn = LOSSES[t.loss]

        self.sampler = BatchSampler(self.data.train, t.batch_size, cfg.data.augment, self.device, cfg.seed,
                                    self.dist.rank, self.dist.world_size)
        self.iters_per_epoch = max(1, self.sampler.batches_per_epoch // t.d_steps)
        self.total_steps = t.steps if t.steps > 0 else t.epochs * self.iters_per_epoch
        self.rng = torch.Generator(device=self.device).manual_seed(  # noise + augmentation
            distributed.noise_seed(cfg.seed, self.dist.rank))
        self.advantage = DiscriminatorAdvantage(t, self.iters_per_epoch, self.device)
        self.step = 0
        self.batch_index = 0  # training batches drawn so far (D steps per iteration may vary)
        self.d_steps_done = 0  # D updates since the last log record
        self.tally = Tally(len(STATS), self.device)
        self.step_fn = self._step_runner(channels_last)
        self._grid_inputs = self._fixed_grid_inputs()
        self._heldout = self._heldout_batch()
        self.evaluator = TrainingEvaluator(cfg, self.run_dir, self.spec, self.device)

    # ----- fixed inputs -------------------------------------------------------------------------
    @property
    def conditional(self) -> bool:
        """Whether G is given the label (else every grid cell shows its own latent)."""
        return self.cfg.model.conditioning != "none"

    def _fixed_grid_inputs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Conditional: one row per class, the same latent in each column (seeds 0..columns-1). Unconditional:
        as many cells, seeds 0..cells-1 row by row."""
        cols = self.cfg.train.grid_columns
        rows = max(1, self.spec.num_classes)
        if not self.conditional:
            z = latents_for_seeds(range(rows * cols), self.cfg.model.z_dim, self.device)
            return z, torch.zeros(rows * cols, dtype=torch.long, device=self.device)
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
        seeded = torch.Generator().manual_seed(self.cfg.seed + 2)
        z = torch.randn(n, self.cfg.model.z_dim, generator=seeded).to(self.device)
        return x, y, z

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator that is sampled, exported and evaluated: the EMA when on, else G."""
        return self.ema.module if self.ema is not None else self.G

    # ----- one iteration ------------------------------------------------------------------------
    def _step_runner(self, channels_last: bool) -> fastpath.StepRunner:
        """The update of one iteration, run eagerly or on the fast path (same math, see train/step.py)."""
        t, merge = self.cfg.train, self.fast_path != "eager" and stateless(self.D)
        g, d = distributed.wrap(self.G, self.dist, self.device), distributed.wrap(self.D, self.dist, self.device)
        update = functools.partial(gan_update, t=t, tally=self.tally)
        parts = functools.partial(model_parts, D_module=self.D, opt_g=self.opt_g, opt_d=self.opt_d, t=t)
        eager = functools.partial(update, parts(g, d, self.D), autocast=autocast_context(t.precision, self.device))
        fast = None
        if self.fast_path == "compile":
            c = fastpath.compiled
            fast = functools.partial(update, parts(c(g), c(d), c(self.D), merge_d_batches=merge),
                                     autocast=autocast_context(t.precision, self.device))
        elif self.fast_path == "cudagraph":
            fast = functools.partial(update, parts(g, d, self.D, merge_d_batches=merge),
                                     autocast=autocast_context(t.precision, self.device, cache=False))
        return fastpath.StepRunner(self.fast_path, eager, fast, [self.G, self.D], [self.opt_g, self.opt_d],
                                   self.tally.tensors(), channels_last)

    def apply_lr_schedule(self) -> None:
        """Set both optimisers' learning rates for the coming iteration (the loop calls it before each one)."""
        t = self.cfg.train
        factor = lr_factor(t, self.step, self.iters_per_epoch, self.total_steps)
        set_lr(self.opt_g, t.lr_g * factor)
        set_lr(self.opt_d, t.lr_d * factor)

    def iteration(self) -> int:
        """The math of one iteration: D steps (the advantage), then g_steps generator updates, then the EMA; its
        stats go to the tally. Returns the D steps taken; the loop advances the counters (``TrainingLoop``)."""
        t = self.cfg.train
        d_steps = self.advantage.d_steps
        inputs = draw_inputs(self.sampler, self.rng, self.batch_index, d_steps, t.g_steps, self.cfg.model.z_dim,
                             penalty=t.loss == "wgan-gp")
        stats = dict(zip(STATS, self.step_fn(inputs).unbind()))
        if self.ema is not None:
            self.ema.update(self.G, self.step)
        self.advantage.observe((stats["acc_real"] + stats["acc_fake"]) / 2, self.step + 1)
        return d_steps

    @torch.no_grad()
    def heldout_stats(self) -> dict[str, float]:
        """D's loss, mean outputs and accuracies on a fixed held-out batch and fakes for it (empty without one),
        D run as in training (``as_in_training``)."""
        if self._heldout is None:
            return {}
        x, y, z = self._heldout
        self.G.eval()
        fake = generate(self.G, z, y)
        self.G.train()
        with as_in_training(self.D):  # D as training sees it: a real batch, then a fake one
            real_logits, fake_logits = self.D(x, y).float(), self.D(fake, y).float()
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
            "step": self.step, "batch_index": self.batch_index,
            "G": self.G.state_dict(), "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "G_ema": self.ema.state_dict() if self.ema is not None else None,
            "advantage": self.advantage.state_dict(),
            "rng": self.rng.get_state(), "torch_rng": torch.get_rng_state(),
            "world_size": self.dist.world_size,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved_world = int(state.get("world_size", 1))
        if saved_world != self.dist.world_size:
            raise GanlabError(f"this run was trained by {saved_world} process(es) and is resumed by "
                              f"{self.dist.world_size}; resume it with torchrun --nproc_per_node {saved_world} "
                              f"(or without torchrun for 1)")
        self.step, self.batch_index = int(state["step"]), int(state["batch_index"])
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        fastpath.load_optimizer_state(self.opt_g, state["opt_g"])
        fastpath.load_optimizer_state(self.opt_d, state["opt_d"])
        if self.ema is not None:
            self.ema.load_state_dict(state["G_ema"])
        self.advantage.load_state_dict(state["advantage"])
        self.rng.set_state(state["rng_per_rank"][self.dist.rank] if "rng_per_rank" in state else state["rng"])
        torch.set_rng_state(state["torch_rng"])
        self.step_fn.invalidate()

    def save(self) -> None:
        """Resume checkpoint, latest generator export and status, all atomic (rank 0); refused for non-finite
        weights. Under DDP every rank takes part: weights checked in sync, every rank's noise state kept."""
        for name, net in (("G", self.G), ("D", self.D)):
            if not all(torch.isfinite(p).all() for p in net.parameters()):
                self.write_status("diverged", bad_step=self.step)
                raise TrainingDiverged(f"{name}'s weights became NaN/inf by iteration {self.step}; the last good "
                                       f"checkpoint in {self.files.checkpoints} is kept; lower the learning "
                                       f"rates or change train.loss")
        state = self.state_dict()
        if self.dist.enabled:
            state["rank_fingerprints"] = distributed.check_in_sync(self.dist, [self.G, self.D])
            state["rng_per_rank"] = distributed.gather(self.dist, self.rng.get_state())
        if not self.dist.is_main:
            return
        save_checkpoint(self.run_dir, state)
        save_generator(self.files.export(), self.sampling_generator, self.cfg, self.spec,
                       {"step": self.step, "epoch": self.epoch})
        self.write_status("running")

    def write_status(self, state: str, **extra: Any) -> None:
        """status.json: the state (running, paused, finished, diverged), the step and ``extra`` fields (rank 0)."""
        if not self.dist.is_main:
            return
        atomic_write_json(self.files.status,
                          {"state": state, "step": self.step, "total_steps": self.total_steps,
                           "epoch": self.epoch, "parameters": self.parameter_counts(), **extra})

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters of G and D (report 002's table 1), kept in status.json."""
        return {name: sum(p.numel() for p in net.parameters()) for name, net in (("G", self.G), ("D", self.D))}

    @property
    def epoch(self) -> int:
        """Completed epochs (fractional steps not counted)."""
        return self.step // self.iters_per_epoch

    @property
    def epochs_done(self) -> float:
        """Epochs of training so far, fractional: the x of every record in metrics.jsonl."""
        return self.step / self.iters_per_epoch

    # ----- epoch-end work --------------------------------------------------------------------------
    def end_of_epoch(self) -> Optional[Path]:
        """The epoch's sample grid and, every ``train.export_every`` epochs, a kept generator export (rank 0).
        Returns the grid's PNG (None on the other ranks)."""
        if not self.dist.is_main:
            return None
        z, y = self._grid_inputs
        images = to_uint8(generate(self.sampling_generator, z, y))
        scale = max(1, 128 // self.spec.resolution)
        cols = self.cfg.train.grid_columns
        if self.conditional:
            names = self.data.train.class_names
            layout = f"{'a row per class, ' if names else ''}the same latents (seeds 0..{cols - 1}) in every row"
        else:
            names, layout = [], f"seeds 0..{len(images) - 1}, row by row"
        save_labelled_grid(self.files.epoch_grid(self.epoch), images, cols, scale,
                           f"{self.run_dir.name}, epoch {self.epoch}: {layout}",
                           [class_label(i, n) for i, n in enumerate(names)])
        every = self.cfg.train.export_every
        if every and self.epoch % every == 0:
            save_generator(self.files.export(self.epoch), self.sampling_generator, self.cfg,
                           self.spec, {"step": self.step, "epoch": self.epoch})
        return self.files.epoch_grid(self.epoch)

    def check_finite(self, first_bad: int) -> None:
        """Stop (status 'diverged') if iteration ``first_bad`` (0-based, over all ranks; -1 = none) had a
        non-finite loss."""
        if first_bad >= 0:
            self.write_status("diverged", bad_step=first_bad + 1)
            raise TrainingDiverged(f"loss became NaN/inf at iteration {first_bad + 1}; the last good checkpoint in "
                                   f"{self.files.checkpoints} is kept; lower the learning rates or change "
                                   f"train.loss")

    def run(self, resume: bool = False, stop_after_steps: Optional[int] = None,
            stop_after_minutes: Optional[float] = None, progress: bool = True) -> TrainResult:
        """Train to the budget (or until a session limit) with the one loop; resume from the last checkpoint first
        when ``resume``. A diverged run raises TrainingDiverged (its last good checkpoint kept)."""
        if resume:
            self.load_state_dict(load_checkpoint(self.run_dir, map_location=self.device))
        outcome = TrainingLoop([self], OneModelStep(self)).run(resumed=resume, stop_after_steps=stop_after_steps,
                                                               stop_after_minutes=stop_after_minutes,
                                                               progress=progress)
        if outcome.errors:
            raise TrainingDiverged(outcome.errors[0])
        return TrainResult(self.run_dir, self.step, finished=outcome.finished, main_process=self.dist.is_main)
