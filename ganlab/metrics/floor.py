"""The real-vs-real floor of a metric: what a perfect generator would score under the same protocol.

The floor of ``fid10k_test`` is the FID of the first 10,000 images of the *other* split (train) against the
same test reference; likewise for ``cfd`` and ``kid``. It is measured, never typed in, and cached in the user
cache by data set, protocol and network (a 10k-image Inception pass takes about 20 minutes on a CPU).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from ganlab.config import DataConfig, EvalConfig, cache_dir
from ganlab.io import atomic_write_json
from ganlab.metrics.inception import PROTOCOL_VERSION, file_sha1, find_weights
from ganlab.metrics.refstats import Reference

FLOORED = ("fid", "cfd", "kid")  # distances between image sets: the real-vs-real value is their floor
FLOOR_PREFIX = "floor_"  # floor_fid10k_test: the floor of fid10k_test


def floor_name(metric: str, cfg: EvalConfig) -> str:
    """The results column of a metric's floor, e.g. floor_fid10k_test."""
    from ganlab.metrics.evaluate import metric_name

    return FLOOR_PREFIX + metric_name(metric, cfg)


def _network_identity(metric: str, data: DataConfig, cfg: EvalConfig) -> str:
    """What the features come from: the Inception file's hash, or the domain classifier file's."""
    if metric == "cfd":
        from ganlab.metrics.classifier import classifier_path

        res, ch = data.resolution, data.channels
        path = classifier_path(data.name, res, ch) if res and ch else None
        return file_sha1(path) if path is not None and path.is_file() else f"classifier:{data.name}:{res}:{ch}"
    return file_sha1(find_weights(cfg.inception))


def _cache_path(metric: str, data: DataConfig, cfg: EvalConfig, n: int) -> Path:
    from ganlab.metrics.evaluate import metric_name

    fields = {k: v for k, v in dataclasses.asdict(data).items() if k not in ("augment", "download")}
    key = {"metric": metric_name(metric, cfg, n), "data": fields, "protocol": PROTOCOL_VERSION,
           "network": _network_identity(metric, data, cfg)}
    digest = hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return cache_dir() / "floors" / f"{data.name.split(':')[0]}-{metric_name(metric, cfg, n)}-{digest}.json"


def real_floor(metric: str, data: DataConfig, num_classes: int, cfg: EvalConfig, device: torch.device,
               n: int | None = None) -> dict[str, Any]:
    """The record of ``metric`` measured on the first ``n`` (default cfg.n) real images of the split other than
    ``cfg.ref``, against the reference (cached)."""
    from ganlab.metrics.evaluate import evaluate_images, metric_name

    n = cfg.n if n is None else n
    path = _cache_path(metric, data, cfg, n)
    if path.is_file():
        return json.loads(path.read_text())
    other = "train" if cfg.ref == "test" else "test"
    images, labels = Reference(data, other, n).images()
    settings = dataclasses.replace(cfg, metrics=[metric], bootstrap=0)
    record = evaluate_images(images, labels, data, num_classes, settings, device)[metric_name(metric, cfg, n)]
    record.update(stand_in_split=other, stand_in_n=n)
    atomic_write_json(path, record)
    return record
