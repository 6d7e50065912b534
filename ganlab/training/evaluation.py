"""Evaluation of a run: during training (every ``eval.every`` epochs and/or ``eval.every_steps`` iterations,
metrics into metrics.jsonl, the best checkpoint by FID kept, early stopping after ``eval.patience`` evaluations
without improvement) and of a finished run's export (``evaluate_run``, behind ``ganlab eval``, into eval.json).

The state during training (best FID, evaluations since) is rebuilt from the eval records of metrics.jsonl,
so a resumed run carries on where it stopped.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import torch

from ganlab.config import Config
from ganlab.data.spec import ImageSpec
from ganlab.devices import resolve_device
from ganlab.folders import RunDir
from ganlab.io import atomic_write_json
from ganlab.metrics.evaluate import evaluate, preflight
from ganlab.metrics.samplers import generator_sampler
from ganlab.models.export import load_run_generator, save_generator
from ganlab.training.checkpoint import save_best_checkpoint
from ganlab.training.metrics_log import append_metrics, read_metrics
from ganlab.training.probes import check_probes, run_probes

if TYPE_CHECKING:  # for typing only: the trainer owns its evaluator
    from ganlab.training.trainer import Trainer

class TrainingEvaluator:
    """Decides when to evaluate, writes the eval records, keeps the best checkpoint, says when to stop."""

    def __init__(self, cfg: Config, run_dir: Path, spec: ImageSpec, device: torch.device):
        self.run_dir = Path(run_dir)
        self.every, self.every_steps = cfg.eval.every, cfg.eval.every_steps
        self.patience = cfg.eval.patience
        if self.enabled:  # missing weights or classifier: refused before training, not after an epoch
            check_probes(cfg, cfg.model.conditioning != "none")
            preflight(cfg.eval, cfg.data, spec.channels, spec.resolution, device)
        self.best_fid: float | None = None
        self.best_epoch: int | None = None
        self.since_best = 0
        self.stopped_early = False
        self.last_step: int | None = None  # the iteration of the latest evaluation

    @property
    def enabled(self) -> bool:
        """Whether the run evaluates during training at all."""
        return self.every > 0 or self.every_steps > 0

    def due(self, step: int, epoch: int, epoch_end: bool) -> bool:
        """Whether an evaluation falls at this iteration: the end of every ``every``-th epoch, every
        ``every_steps``-th iteration."""
        by_epoch = epoch_end and self.every > 0 and epoch > 0 and epoch % self.every == 0
        return by_epoch or (self.every_steps > 0 and step % self.every_steps == 0)

    def due_at_end(self, step: int) -> bool:
        """Whether a run that ends at ``step`` still owes its final evaluation (a budget that ends between two)."""
        return self.enabled and self.last_step != step

    def restore(self) -> None:
        """Rebuild best FID and patience count from the run's eval records (after a resume; those that
        ``ganlab eval --log`` added after training are not the training's own)."""
        self.best_fid, self.best_epoch, self.since_best, self.last_step = None, None, 0, None
        for r in read_metrics(self.run_dir):
            if r.get("kind") == "eval" and not r.get("after_training"):
                self.last_step = r["step"]
                if r.get("fid") is not None:
                    self._update(r["fid"], int(r["epoch"]))  # completed epochs, as in training

    def _update(self, fid: float, epoch: int) -> bool:
        improved = self.best_fid is None or fid < self.best_fid
        if improved:
            self.best_fid, self.best_epoch, self.since_best = fid, epoch, 0
        else:
            self.since_best += 1
        return improved

    def evaluate(self, trainer: "Trainer", write: Callable[[dict[str, Any]], None]) -> bool:
        """Evaluate the trainer's generator now; True when training should stop early."""
        cfg = trainer.cfg
        t0 = time.perf_counter()
        sampler = generator_sampler(trainer.sampling_generator, cfg.model.z_dim, trainer.device, cfg.eval.seed)
        results = evaluate(sampler, cfg.data, trainer.spec.num_classes, cfg.eval, device=trainer.device)
        results.update(run_probes(cfg, trainer.sampling_generator, trainer.D, trainer.data, trainer.device,
                                  self.run_dir))
        record: dict[str, Any] = {"kind": "eval", "step": trainer.step, "epoch": trainer.epochs_done,
                                  "metrics": results}
        fid_name = next((k for k in results if k.startswith("fid")), None)
        if fid_name is not None:
            record["fid"], record["fid_name"] = results[fid_name]["value"], fid_name
            if self._update(record["fid"], trainer.epoch):
                save_best_checkpoint(self.run_dir, trainer.state_dict())
                save_generator(RunDir(self.run_dir).best_export, trainer.sampling_generator, cfg, trainer.spec,
                               {"step": trainer.step, "epoch": trainer.epoch, fid_name: record["fid"]})
            record.update(best_fid=self.best_fid, best_epoch=self.best_epoch, evals_since_best=self.since_best)
        record["eval_time_s"] = time.perf_counter() - t0  # evaluating and keeping the best, not training
        write(record)
        self.last_step = trainer.step
        self.stopped_early = bool(self.patience and self.since_best >= self.patience)
        return self.stopped_early

    def summary(self) -> dict[str, Any]:
        """What status.json records about evaluation at the end."""
        if not self.enabled:
            return {}
        return {"best_fid": self.best_fid, "best_epoch": self.best_epoch, "stopped_early": self.stopped_early}


def evaluate_run(run_dir: str | Path, overrides: Optional[dict[str, Any]] = None, epoch: Optional[int] = None,
                 device: str | torch.device = "auto", log: bool = False) -> dict[str, dict[str, Any]]:
    """Evaluate a run's generator export (latest, or of ``epoch``) with the run's eval settings changed by
    ``overrides`` (EvalConfig fields); merge the results into RUN_DIR/eval.json ({metric name: record}). With
    ``log``, also append them to metrics.jsonl as an evaluation at the export's iteration (where a study's
    findings read a point along its training), marked ``after_training``."""
    files = RunDir(run_dir)
    dev = resolve_device(device)
    g, run_cfg, spec, meta = load_run_generator(files.path, epoch, dev)
    cfg = replace(run_cfg.eval, **(overrides or {}))
    sampler = generator_sampler(g, run_cfg.model.z_dim, dev, cfg.seed)
    results = evaluate(sampler, run_cfg.data, spec.num_classes, cfg, device=dev)
    for record in results.values():
        record.update({"epoch": meta.get("epoch"), "step": meta.get("step"), "device": str(dev)})
    atomic_write_json(files.eval, {**(files.read_eval() or {}), **results})
    if log:
        append_metrics(files.path, {"kind": "eval", "step": meta.get("step"), "epoch": meta.get("epoch"),
                                    "metrics": results, "after_training": True})
    return results


def run_fid(run_dir: str | Path) -> dict[str, float]:
    """A sweep evaluator (``--evaluator ganlab.training.evaluation:run_fid``): the Inception FID of a run's
    generator under the run's own eval settings (eval.n, eval.ref, ...), as {protocol name: value}."""
    return {name: record["value"] for name, record in evaluate_run(run_dir, {"metrics": ["fid"]}).items()}
