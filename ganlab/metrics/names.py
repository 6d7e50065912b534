"""Metric result names: the protocol in the name (``fid10k_test``, ``cfd10k_test500``, ``acc10k``, ``is10k``)."""

from __future__ import annotations

from typing import Optional

from ganlab.config import EvalConfig

REFERENCED = ("fid", "floor", "kid", "pr", "ifid", "cfd")  # metrics against a reference split: named with it


def count_name(n: int) -> str:
    """10000 -> '10k', 50000 -> '50k', 500 -> '500'."""
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def metric_name(metric: str, cfg: EvalConfig, n: Optional[int] = None) -> str:
    """The protocol name of a metric's result under eval settings (``n`` samples, default ``cfg.n``):
    fid10k_test, cfd10k_test500 (a 500-image reference), acc10k, is10k."""
    count = count_name(cfg.n if n is None else n)
    if metric not in REFERENCED:
        return f"{metric}{count}"
    return f"{metric}{count}_{cfg.ref}{count_name(cfg.ref_n) if cfg.ref_n else ''}"
