"""The one training loop: K >= 1 models (``Trainer``s) driven through one pluggable step.

The step does the math of an iteration for all its models: ``OneModelStep`` is one model's own iteration
(eager or its fast path); the packed backend (``ganlab.sweeps.packed``) plugs in a batched step for K models.
The loop does everything else, the same for both: the learning-rate schedule, every counter (iterations,
batches drawn, D steps), one log record per model at each
log interval, epoch-end grids and exports, checkpoints, evaluation during training with early stopping,
divergence checks, session limits (``--stop-after-*``) and the final status.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, Protocol

from ganlab.errors import TrainingDiverged
from ganlab.progress import progress_bar
from ganlab.training import distributed
from ganlab.training.metrics_log import MetricsLog
from ganlab.training.step import STATS, Tally

if TYPE_CHECKING:
    from ganlab.training.trainer import Trainer


class Step(Protocol):
    """What the loop drives: one iteration of all its models."""

    tally: Tally  # the device-side stats sums: (len(STATS),) for one model, (len(STATS), K) for K
    record: dict[str, Any]  # fields added to every log record and to the final status (e.g. packed_models)

    def iteration(self) -> int:
        """One iteration of every model (their learning rates already set by the loop); returns the D steps each
        took, which the loop adds to their counters."""

    def sync(self) -> None:
        """Make every Trainer's modules, optimisers and EMA hold the current state (before anything reads them)."""


class OneModelStep:
    """The plain step: one Trainer's own iteration (eager or its fast path; its state is always current)."""

    record: dict[str, Any] = {}

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.tally = trainer.tally

    def iteration(self) -> int:
        return self.trainer.iteration()

    def sync(self) -> None:
        pass


@dataclass
class LoopOutcome:
    step: int  # iterations done
    finished: bool  # False when a session limit stopped the loop (resume to continue)
    errors: dict[int, str] = field(default_factory=dict)  # model index -> why it diverged


class TrainingLoop:
    """Trains ``models`` (Trainers of one data set, batch size and budget) with ``step`` to their budget."""

    def __init__(self, models: list[Trainer], step: Step):
        self.models, self.step = models, step
        self.lead = models[0]
        self.active = list(range(len(models)))  # models still training (not diverged, not stopped early)
        self.errors: dict[int, str] = {}

    # ----- per-model events ------------------------------------------------------------------------
    def _drop(self, i: int, error: str) -> None:
        self.errors[i] = error
        self.active.remove(i)

    def _check_finite(self) -> None:
        """Models whose loss became NaN/inf since the last check stop as diverged (all ranks agree)."""
        first_bad = self.step.tally.first_bad.reshape(-1).tolist()
        for i in list(self.active):
            try:
                self.models[i].check_finite(distributed.first_over_ranks(self.lead.dist, first_bad[i]))
            except TrainingDiverged as e:
                self._drop(i, str(e))

    def _save(self) -> None:
        self.step.sync()
        self._check_finite()
        for i in list(self.active):
            try:
                self.models[i].save()  # refuses non-finite weights
            except TrainingDiverged as e:
                self._drop(i, str(e))

    def _log(self, logs: list[Optional[MetricsLog]], since: float, since_step: int, t0: float) -> None:
        self.step.sync()
        self._check_finite()
        means = distributed.mean_over_ranks(self.lead.dist, self.step.tally.take_means()).reshape(len(STATS), -1)
        columns = means.T.tolist()  # one list of stats per model
        now, n = time.perf_counter(), self.lead.step - since_step
        for i in self.active:
            m, log = self.models[i], logs[i]
            if log is not None:
                log.write({"step": m.step, "epoch": m.epochs_done, **dict(zip(STATS, columns[i])),
                           **m.heldout_stats(), "d_steps": m.d_steps_done / n,
                           "lr_g": float(m.opt_g.param_groups[0]["lr"]), "lr_d": float(m.opt_d.param_groups[0]["lr"]),
                           "step_time_s": (now - since) / n,
                           "images_per_s": m.d_steps_done * m.cfg.train.batch_size * m.dist.world_size / (now - since),
                           "time_s": now - t0, **self.step.record})
        for m in self.models:
            m.d_steps_done = 0

    def _evaluate(self, logs: list[Optional[MetricsLog]], t0: float, epoch_end: bool = False,
                  checkpointed: bool = True, final: bool = False) -> None:
        """Evaluations due at this iteration (``final``: the one a run owes when its budget ends between two); a
        model whose patience ran out stops (early stopping), on a checkpoint of this iteration."""
        for i in list(self.active):
            m, log = self.models[i], logs[i]
            if not (m.evaluator.due_at_end(m.step) if final else m.evaluator.due(m.step, m.epoch, epoch_end)):
                continue
            self.step.sync()
            stop = (m.evaluator.evaluate(m, lambda r: log.write({**r, "time_s": time.perf_counter() - t0}))
                    if log is not None else False)
            if m.dist.enabled:  # rank 0 evaluates; every rank stops with it
                stop = distributed.any_rank(m.dist, stop)
            if stop:  # no better FID in eval.patience evaluations
                if not checkpointed:  # e.g. an evaluation every N iterations, between epoch ends
                    m.save()
                self.active.remove(i)
                m.write_status("finished", train_time_s=time.perf_counter() - t0, **m.evaluator.summary(),
                               **self.step.record)

    # ----- the loop --------------------------------------------------------------------------------
    def run(self, resumed: bool = False, stop_after_steps: Optional[int] = None,
            stop_after_minutes: Optional[float] = None, progress: bool = True) -> LoopOutcome:
        """Train to the budget (or until a session limit), checkpointing at epoch ends. The models' state (and,
        when ``resumed``, their checkpoints) must already be loaded."""
        logs = [MetricsLog(m.run_dir, resume_step=m.step if resumed else None, tensorboard=m.cfg.train.tensorboard)
                if m.dist.is_main else None for m in self.models]
        try:
            return self._train(logs, stop_after_steps, stop_after_minutes, progress)
        finally:
            for log in logs:
                if log is not None:
                    log.close()

    def _train(self, logs: list[Optional[MetricsLog]], stop_after_steps: Optional[int],
               stop_after_minutes: Optional[float], progress: bool) -> LoopOutcome:
        lead, t = self.lead, self.lead.cfg.train
        for m in self.models:
            m.evaluator.restore()
            m.write_status("running")
        start_step, t0 = lead.step, time.perf_counter()
        deadline = t0 + stop_after_minutes * 60 if stop_after_minutes else math.inf
        self.step.tally.start(lead.step)
        last_log_time, last_log_step = t0, lead.step
        bar = progress_bar(lead.total_steps, lead.step, enabled=progress and lead.dist.is_main)
        while lead.step < lead.total_steps and self.active:
            for m in self.models:
                m.apply_lr_schedule()
            d_steps = self.step.iteration()  # its stats are summed on the device by the step's tally
            for m in self.models:  # the one place where the counters advance
                m.step += 1
                m.batch_index += d_steps
                m.d_steps_done += d_steps
            bar.update(1)
            epoch_end = lead.step % lead.iters_per_epoch == 0
            logging = lead.step % t.log_every == 0 or epoch_end or lead.step == lead.total_steps
            if logging:
                self._log(logs, last_log_time, last_log_step, t0)
                last_log_time, last_log_step = time.perf_counter(), lead.step
            if epoch_end:
                self.step.sync()
                for i in self.active:
                    grid = self.models[i].end_of_epoch()
                    if logs[i] is not None and grid is not None:
                        logs[i].grid(grid, self.models[i].step)
            checkpoint = (epoch_end or (t.checkpoint_every and lead.step % t.checkpoint_every == 0)
                          or lead.step == lead.total_steps)
            if checkpoint:
                self._save()
            self._evaluate(logs, t0, epoch_end, checkpointed=bool(checkpoint))
            timed_out = time.perf_counter() > deadline
            if lead.dist.enabled:  # every rank must stop at the same iteration: agree at log steps only
                timed_out = logging and distributed.any_rank(lead.dist, timed_out)
            session_over = (stop_after_steps is not None and lead.step - start_step >= stop_after_steps) or timed_out
            if session_over and lead.step < lead.total_steps and self.active:
                self._save()
                for i in self.active:
                    self.models[i].write_status("paused")
                bar.close()
                return LoopOutcome(lead.step, finished=False, errors=self.errors)
        bar.close()
        if lead.step == lead.total_steps:
            self._evaluate(logs, t0, final=True)
        for i in self.active:
            m = self.models[i]
            m.write_status("finished", train_time_s=time.perf_counter() - t0, **m.evaluator.summary(),
                           **self.step.record)
        return LoopOutcome(lead.step, finished=True, errors=self.errors)
