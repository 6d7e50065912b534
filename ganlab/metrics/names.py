"""Metric result names: the protocol in the name (``fid10k_test``, ``cfd10k_test500``, ``acc10k``, ``is10k``)."""

from __future__ import annotations

from typing import Iterable, Optional

from ganlab.config import EvalConfig

REFERENCED = ("fid", "floor", "kid", "pr", "ifid", "cfd", "checker")  # metrics against a reference split: named with it


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


def protocol_name(names: Iterable[str], metric: str) -> Optional[str]:
    """The logged name that ``metric`` means: itself, or the one name that is the metric with its sample count after
    the part before the first underscore (cfd -> cfd2k_test, zdrop_e1 -> zdrop1k_e1); None when none or several."""
    names = set(names)
    if metric in names:
        return metric
    head, _, tail = metric.partition("_")
    candidates = sorted(n for n in names if n.startswith(head) and n[len(head):len(head) + 1].isdigit()
                        and (not tail or n.endswith(f"_{tail}")))
    return candidates[0] if len(candidates) == 1 else None


def metric_family(name: str) -> str:
    """A metric name's family: its part before the sample count (fid500_test1k -> fid, acc10k -> acc)."""
    head = name.split("_")[0]
    return head.rstrip("0123456789k") or head
