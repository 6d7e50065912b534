"""Sweep figures: a metric against a swept key (mean and 95% band over seeds, the real-vs-real floor),
a table of mean ± spread for grids, and a plateau estimate for one-key studies such as z_dim vs FID."""

from __future__ import annotations

import json
import math
import re
import textwrap
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from scipy import stats

from ganlab.folders import SweepDir
from ganlab.io import atomic_write_json, atomic_write_text
from ganlab.metrics.names import metric_family, protocol_name
from ganlab.plotting import pyplot, save_plot
from ganlab.training.metrics_log import eval_records, read_metrics

BAND_MIN_SEEDS = 3  # fewest seeds per point for which the metric-vs-key figure draws the 95% band
PLATEAU_RULE = ("the smallest {key} whose mean {metric} over seeds is within two standard errors of the best "
                "mean: |mean(x) - mean(best)| <= 2 * sqrt(se(x)^2 + se(best)^2), se = sample std / sqrt(seeds), "
                "on the {direction} side of the best")


@dataclass
class Cell:
    values: tuple[Any, ...]  # the swept keys' values
    mean: float
    std: float  # sample standard deviation over seeds (nan with one seed)
    n: int  # seeds with a finite value
    ci95: float  # half-width of the 95% Student-t interval of the mean (nan with one seed)
    seeds: tuple[float, ...] = ()  # the metric of each seed

    @property
    def se(self) -> float:
        return self.std / math.sqrt(self.n) if self.n > 1 else math.nan


def _number(v: Any) -> Optional[float]:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def summarize(rows: Sequence[dict[str, Any]], keys: Sequence[str], metric: str) -> list[Cell]:
    """Mean, spread and 95% interval of ``metric`` over seeds for each combination of ``keys`` (finished rows)."""
    groups: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for row in rows:
        value = _number(row.get(metric))
        if row.get("state") == "finished" and value is not None:
            groups[tuple(json.dumps(row.get(k)) if isinstance(row.get(k), list) else row.get(k) for k in keys)].append(value)
    cells = []
    for values, xs in groups.items():
        n = len(xs)
        mean = sum(xs) / n
        std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else math.nan
        ci = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n) if n > 1 else math.nan
        cells.append(Cell(values, mean, std, n, ci, tuple(xs)))
    return sorted(cells, key=lambda c: tuple((0, v) if isinstance(v, (int, float)) else (1, str(v)) for v in c.values))


def plateau(cells: Sequence[Cell], key: str, metric: str, lower_is_better: bool = True) -> dict[str, Any]:
    """The smallest swept value whose metric is within the seeds' noise of the best (rule in the result)."""
    rule = PLATEAU_RULE.format(key=key, metric=metric, direction="worse" if lower_is_better else "lower")
    numeric = [c for c in cells if _number(c.values[0]) is not None]
    if not numeric:
        return {"value": None, "rule": rule, "reason": f"no finished points with a numeric {key} and {metric}"}
    best = min(numeric, key=lambda c: c.mean if lower_is_better else -c.mean)
    if best.n < 2:
        return {"value": None, "rule": rule, "best": best.values[0], "best_mean": best.mean,
                "reason": "needs at least two seeds per point to know the noise"}
    for c in sorted(numeric, key=lambda c: float(c.values[0])):
        if c.n < 2:
            continue
        gap = (c.mean - best.mean) if lower_is_better else (best.mean - c.mean)
        noise = 2 * math.sqrt(c.se ** 2 + best.se ** 2)
        if gap <= noise:
            return {"value": c.values[0], "mean": c.mean, "gap": gap, "noise": noise, "best": best.values[0],
                    "best_mean": best.mean, "seeds": c.n, "rule": rule}
    return {"value": best.values[0], "rule": rule}  # unreachable: the best is within its own noise


def metric_vs_key_title(sweep_name: str, key: str, metric: str, seeds: str) -> str:
    """The title of a sweep's METRIC_vs_KEY.png: the sweep and what is plotted (``seeds``: "3", or "3-4" where
    the points have different numbers of seeds)."""
    return f"{sweep_name}: {metric} against {key}, mean over {seeds} seed(s) per point"


def d_outputs_title(sweep_name: str, points: int) -> str:
    """The title of a sweep's d_outputs.png: the sweep and what is plotted (two lines)."""
    return (f"{sweep_name}: D(x) (solid) and D(G(z)) (dashed) over training, {points} point(s)\n"
            f"0.5 = D cannot tell real from generated")


def plot_metric_vs_key(cells: Sequence[Cell], key: str, metric: str, out: str | Path,
                       floor: Optional[float] = None, plateau_info: Optional[dict[str, Any]] = None,
                       sweep_name: Optional[str] = None) -> Path:
    """Mean over seeds, each seed as a dot, a 95% band where every point has at least ``BAND_MIN_SEEDS`` seeds
    (with two, Student's t makes the band 12.7 standard errors wide), the floor as a horizontal line, the plateau
    as a vertical one; titled with the sweep (``sweep_name``, default: the folder above OUT's figures folder) and
    what is plotted, the legend outside the axes."""
    plt = pyplot()

    numeric = all(_number(c.values[0]) is not None for c in cells)
    xs = [float(c.values[0]) if numeric else i for i, c in enumerate(cells)]
    means = [c.mean for c in cells]
    lo = [c.mean - (c.ci95 if c.n > 1 else 0) for c in cells]
    hi = [c.mean + (c.ci95 if c.n > 1 else 0) for c in cells]

    fig, ax = plt.subplots(figsize=(7, 4))
    fewest, most = min((c.n for c in cells), default=0), max((c.n for c in cells), default=0)
    seeds = f"{fewest}" if fewest == most else f"{fewest}-{most}"
    ax.plot(xs, means, marker="o", ms=3, color="tab:green", label=f"mean over {seeds} seed(s)")
    if most > 1:
        dots = [(x, v) for x, c in zip(xs, cells) for v in c.seeds]
        ax.scatter([x for x, _ in dots], [v for _, v in dots], s=10, color="tab:green", alpha=0.45,
                   linewidths=0, label="each seed")
    if fewest >= BAND_MIN_SEEDS:
        ax.fill_between(xs, lo, hi, color="tab:green", alpha=0.25, label="95% interval of the mean")
    if floor is not None:
        ax.axhline(floor, color="tab:red", label=f"real vs real ({floor:g})")
    if plateau_info and plateau_info.get("value") is not None and numeric:
        ax.axvline(float(plateau_info["value"]), color="grey", linestyle="--",
                   label=f"plateau: {key.split('.')[-1]} = {plateau_info['value']}")
    if not numeric:
        ax.set_xticks(xs, [str(c.values[0]) for c in cells], rotation=45)
    elif min(xs) >= 0 and max(xs) > 20:  # sizes such as 0, 1, 2, 4, ..., 128: spread the small ones out
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xticks(xs, [f"{x:g}" for x in xs])
        ax.set_xlim(min(xs) - 0.3, max(xs) * 1.2)
    ax.set_xlabel(key)
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    name = sweep_name or _sweep_name(out)
    ax.set_title(metric_vs_key_title(name, key, metric, seeds), fontsize=9)
    fig.tight_layout()
    if plateau_info and plateau_info.get("rule"):
        found = "" if plateau_info.get("value") is not None else f" (none drawn: {plateau_info.get('reason')})"
        fig.subplots_adjust(bottom=0.26)
        fig.text(0.01, 0.01, textwrap.fill(f"plateau{found}: {plateau_info['rule']}", 125), fontsize=6.5,
                 va="bottom")
    return save_plot(out, fig, dpi=110)


def _sweep_name(out: str | Path) -> str:
    """The sweep a figure at SWEEP_DIR/figures/NAME.png belongs to (the folder's name otherwise)."""
    folder = Path(out).resolve().parent
    return folder.parent.name if folder == SweepDir(folder.parent).figures else folder.name


def grid_table(cells: Sequence[Cell], keys: Sequence[str], metric: str) -> str:
    """A Markdown table: one row per grid cell, metric as mean ± std (n seeds)."""
    head = "| " + " | ".join(k.split(".")[-1] for k in keys) + f" | {metric} | seeds |"
    lines = [head, "|" + "---|" * (len(keys) + 2)]
    for c in cells:
        spread = f" ± {c.std:.4g}" if c.n > 1 else ""
        lines.append("| " + " | ".join(str(v) for v in c.values) + f" | {c.mean:.4g}{spread} | {c.n} |")
    return "\n".join(lines) + "\n"


def _colours(plt: Any, n: int) -> Any:
    """A colour per index 0..n-1: the ten distinct tab10 colours in order, else n steps of viridis."""
    if n <= 10:
        return plt.get_cmap("tab10")
    return plt.get_cmap("viridis", n)


def plot_d_outputs(sweep_dir: str | Path, rows: Sequence[dict[str, Any]], out: str | Path) -> Optional[Path]:
    """D(x) (solid) and D(G(z)) (dashed) over training of every finished point, overlaid (report 001 section 4)."""
    plt = pyplot()

    runs = [(r["point"], [rec for rec in read_metrics(Path(sweep_dir) / r["run_dir"]) if "d_real" in rec])
            for r in rows if r.get("state") == "finished" and r.get("run_dir")]
    runs = [(name, recs) for name, recs in runs if recs]
    if not runs:
        return None

    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = _colours(plt, len(runs))
    for i, (name, recs) in enumerate(runs):
        steps = [rec["step"] for rec in recs]
        ax.plot(steps, [rec["d_real"] for rec in recs], color=colours(i), lw=1, label=name)
        ax.plot(steps, [rec["d_fake"] for rec in recs], color=colours(i), lw=1, ls="--")
    ax.axhline(0.5, color="grey", lw=0.8)
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean D output (0..1)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, ncol=2 if len(runs) > 8 else 1, loc="center left", bbox_to_anchor=(1.01, 0.5),
              title="point", title_fontsize=7)
    # a figure title, left-aligned over the whole figure, so that a wide legend does not push it off the left edge
    fig.suptitle(d_outputs_title(Path(sweep_dir).resolve().name, len(runs)), fontsize=9, x=0.01, ha="left")
    fig.tight_layout()
    return save_plot(out, fig, dpi=100)


def over_training_title(sweep_name: str, column: str, points: int) -> str:
    """The figure title of an evaluation during training over a sweep's points."""
    return (f"{sweep_name}: {column} during training, {points} point(s): mean over seeds (line), 95% interval "
            f"(band, 3 seeds or more), each seed (thin)")


def _training_series(sweep_dir: str | Path, rows: Sequence[dict[str, Any]], family: str
                     ) -> tuple[Optional[str], dict[str, dict[int, dict[float, float]]]]:
    """The evaluation during training whose name is ``family`` then its sample count (fid -> fid500_test1k), and
    per point label (swept values), per seed, its {epoch: value}."""
    column: Optional[str] = None
    series: dict[str, dict[int, dict[float, float]]] = defaultdict(dict)
    for row in rows:
        if row.get("state") != "finished" or not row.get("run_dir"):
            continue
        label = re.sub(r"(^|_)seed=[^_]*$", "", str(row["point"])) or "all"  # its swept values, seed aside
        for epoch, rec in eval_records(Path(sweep_dir) / row["run_dir"]):
            name = protocol_name(rec["metrics"], family)
            value = _number(rec["metrics"][name].get("value")) if name is not None else None
            if value is not None and column in (None, name):
                column = name
                series[label].setdefault(int(row.get("seed", 0)), {})[epoch] = value
    return column, series


def plot_over_training(sweep_dir: str | Path, rows: Sequence[dict[str, Any]], family: str) -> Optional[Path]:
    """The evaluation ``family`` (fid, cfd, acc) along training: per point, each seed thin, the mean over seeds and
    its 95% band; None when no point evaluated it during training."""
    column, series = _training_series(sweep_dir, rows, family)
    if column is None:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = _colours(plt, len(series))
    for i, (label, by_seed) in enumerate(series.items()):  # the sweep's order of points (z = 2 before z = 16)
        epochs = sorted(set().union(*by_seed.values()))
        for values in by_seed.values():
            ax.plot(sorted(values), [values[e] for e in sorted(values)], color=colours(i), lw=0.6, alpha=0.5)
        means, halves = [], []
        for e in epochs:
            xs = [v[e] for v in by_seed.values() if e in v]
            means.append(sum(xs) / len(xs))
            sd = math.sqrt(sum((x - means[-1]) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else math.nan
            halves.append(stats.t.ppf(0.975, len(xs) - 1) * sd / math.sqrt(len(xs))
                          if len(xs) >= BAND_MIN_SEEDS else math.nan)
        ax.plot(epochs, means, color=colours(i), lw=2, marker="o", markersize=3,
                label=f"{label} ({len(by_seed)} seeds)")
        if not any(math.isnan(h) for h in halves):
            ax.fill_between(epochs, [m - h for m, h in zip(means, halves)], [m + h for m, h in zip(means, halves)],
                            color=colours(i), alpha=0.2)
    ax.set_xlabel("epoch")
    ax.set_ylabel(column)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), title="point", title_fontsize=7)
    fig.suptitle(over_training_title(Path(sweep_dir).resolve().name, column, len(series)), fontsize=9, x=0.01,
                 ha="left")
    fig.tight_layout()
    return save_plot(SweepDir(sweep_dir).over_training(column), fig, dpi=100)


def draw_sweep_figures(sweep_dir: str | Path, rows: Sequence[dict[str, Any]], swept_keys: Sequence[str],
                       metric: str, lower_is_better: bool = True, floor: Optional[float] = None) -> list[Path]:
    """Into SWEEP_DIR/figures: the D-output curves of every point, the metric's evaluations during training per
    point (mean and band over seeds); for one swept key, the metric against it with
    the plateau estimate; for several keys, the grid table (Markdown and JSON). The metric's figures are drawn
    when some finished row has it."""
    folders = SweepDir(sweep_dir)
    drawn = [plot_d_outputs(sweep_dir, rows, folders.d_outputs), plot_over_training(sweep_dir, rows, metric_family(metric))]
    written: list[Path] = [p for p in drawn if p is not None]
    if not any(_number(r.get(metric)) is not None for r in rows) or not swept_keys:
        return written
    if len(swept_keys) == 1:
        key = swept_keys[0]
        cells = summarize(rows, [key], metric)
        info = plateau(cells, key, metric, lower_is_better)
        written.append(atomic_write_json(folders.plateau(metric, key), info))
        written.append(plot_metric_vs_key(cells, key, metric, folders.metric_vs_key(metric, key), floor, info,
                                          folders.path.resolve().name))
        table = [asdict(c) | {"values": list(c.values)} for c in cells]
        written.append(atomic_write_json(folders.by_key(metric, key), table))
    else:
        cells = summarize(rows, swept_keys, metric)
        written.append(atomic_write_text(folders.grid_table(metric, ".md"), grid_table(cells, swept_keys, metric)))
        table = [asdict(c) | {"values": dict(zip(swept_keys, c.values))} for c in cells]
        written.append(atomic_write_json(folders.grid_table(metric, ".json"), table))
    return written
