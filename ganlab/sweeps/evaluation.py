"""Evaluating a sweep's points with the sweep's own settings, the column its figures draw, and its floor.

A point is evaluated once it has finished, whatever backend trained it, with the spec's ``eval`` block
(``EvalConfig`` fields); results go to the point's eval.json under their protocol names (``fid10k_test``)
and from there to results.csv. Re-running a sweep with other eval settings evaluates the finished points
again, under the new names, without retraining them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

from ganlab.config import Config, EvalConfig
from ganlab.data import load_data
from ganlab.devices import resolve_device
from ganlab.folders import RunDir
from ganlab.metrics.evaluate import METRICS, real_floor
from ganlab.metrics.floor import FLOORED, floor_name
from ganlab.metrics.names import metric_name
from ganlab.training.evaluation import evaluate_run


def missing_metrics(run_dir: str | Path, settings: EvalConfig) -> list[str]:
    """The metrics of ``settings`` whose protocol name is not yet in the run's eval.json."""
    done = RunDir(run_dir).read_eval() or {}
    return [m for m in settings.metrics if metric_name(m, settings) not in done]


def evaluate_point(run_dir: str | Path, settings: EvalConfig) -> list[str]:
    """Evaluate a finished point's generator with the metrics it lacks; returns the metrics evaluated."""
    missing = missing_metrics(run_dir, settings)
    if missing:
        evaluate_run(run_dir, dataclasses.asdict(dataclasses.replace(settings, metrics=missing)))
    return missing


def metric_column(metric: str, settings: EvalConfig) -> str:
    """The results column a spec's ``metric`` names: a metric (fid) becomes its protocol name under the eval
    settings (fid10k_test); anything else (loss_d, fid2k_train) is a column already."""
    return metric_name(metric, settings) if metric in METRICS else metric


def sweep_floor(metric: str, cfg: Config, settings: EvalConfig) -> Optional[dict[str, Any]]:
    """The measured real-vs-real floor of ``metric`` under the settings (None for metrics without one), as
    {"column": floor_fid10k_test, "value": ..., "record": ...}."""
    if metric not in FLOORED:
        return None
    spec = load_data(cfg.data).spec
    record = real_floor(metric, cfg.data, spec.num_classes, settings, resolve_device(cfg.device))
    return {"column": floor_name(metric, settings), "value": record["value"], "record": record}
