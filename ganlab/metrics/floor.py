"""The real-vs-real floor of a metric: what a perfect generator would score under the same protocol.

The floor of ``fid10k_test`` is the FID of the first 10,000 images of the *other* split (train) against the
same test reference; likewise for ``cfd`` and ``kid``. It is measured, never typed in
(``ganlab.metrics.evaluate.real_floor``), and cached in the user cache by data set, protocol and network (a
10k-image Inception pass takes about 20 minutes on a CPU). This module names and places it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from ganlab.config import DataConfig, EvalConfig, cache_dir
from ganlab.metrics.classifier import classifier_path
from ganlab.metrics.inception import PROTOCOL_VERSION, file_sha1, find_weights
from ganlab.metrics.names import metric_name

FLOORED = ("fid", "cfd", "kid")  # distances between image sets: the real-vs-real value is their floor
FLOOR_PREFIX = "floor_"  # floor_fid10k_test: the floor of fid10k_test


def floor_name(metric: str, cfg: EvalConfig) -> str:
    """The results column of a metric's floor, e.g. floor_fid10k_test."""
    return FLOOR_PREFIX + metric_name(metric, cfg)


def _network_identity(metric: str, data: DataConfig, cfg: EvalConfig) -> str:
    """What the features come from: the Inception file's hash, or the domain classifier file's."""
    if metric == "cfd":
        res, ch = data.resolution, data.channels
        path = classifier_path(data.name, res, ch) if res and ch else None
        return file_sha1(path) if path is not None and path.is_file() else f"classifier:{data.name}:{res}:{ch}"
    return file_sha1(find_weights(cfg.inception))


def floor_cache_path(metric: str, data: DataConfig, cfg: EvalConfig, n: int) -> Path:
    """Where the floor of ``metric`` on ``n`` images is cached: by data set, protocol and network."""
    fields = {k: v for k, v in dataclasses.asdict(data).items() if k not in ("augment", "download")}
    key = {"metric": metric_name(metric, cfg, n), "data": fields, "protocol": PROTOCOL_VERSION,
           "network": _network_identity(metric, data, cfg)}
    digest = hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return cache_dir() / "floors" / f"{data.name.split(':')[0]}-{metric_name(metric, cfg, n)}-{digest}.json"
