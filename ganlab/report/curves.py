"""Training curves of a run, drawn from its metrics.jsonl."""

from __future__ import annotations

from pathlib import Path

from ganlab.folders import RunDir
from ganlab.plotting import pyplot, save_plot
from ganlab.training.metrics_log import eval_records, read_metrics

PANELS = (
    ("losses", (("loss_d", "D loss"), ("loss_g", "G loss"), ("heldout_loss_d", "D loss, held-out"))),
    ("D outputs", (("d_real", "D(x)"), ("d_fake", "D(G(z))"), ("heldout_d_real", "D(x), held-out"),
                   ("heldout_d_fake", "D(G(z)), held-out"))),
    ("D accuracy", (("acc_real", "real"), ("acc_fake", "fake"), ("heldout_acc_real", "real, held-out"),
                    ("heldout_acc_fake", "fake, held-out"))),
    ("gradient norms, D steps", (("grad_norm_d", "|grad D|"), ("grad_norm_g", "|grad G|"), ("d_steps", "D steps"))),
)


PANEL_Y_LABELS = {"losses": "loss", "D outputs": "mean D output (0..1)", "D accuracy": "accuracy (fraction)",
                  "gradient norms, D steps": "L2 norm; D steps per G step", "FID": "FID (lower is better)",
                  "IS": "IS (higher is better)"}

Series = tuple[list[float], list[float], str, str]  # xs, ys, label, line style
PANELS_PER_ROW = 4  # a figure of more panels wraps into rows


def _xy(points: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    xs, ys = zip(*points)
    return list(xs), list(ys)


def curves_title(run_name: str) -> str:
    """The figure title of a run's training curves."""
    return f"{run_name}: training curves by epoch (losses, D outputs, D accuracy, gradient norms)"


def eval_title(run_name: str, families: list[str]) -> str:
    """The figure title of a run's eval.png: the run and the metric families drawn."""
    return f"{run_name}: {', '.join(families)} evaluated during training, by epoch"


def _save_panels(out: Path, panels: list[tuple[str, list[Series]]], title: str, marker: str = "") -> Path:
    """Line-plot panels (title, series), at most PANELS_PER_ROW a row, under the figure title ``title``, written
    as a PNG (its title also kept as the PNG's "Title" text), x axis in epochs."""
    plt = pyplot()
    columns = max(1, min(len(panels), PANELS_PER_ROW))
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.8 * rows + 0.4), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (panel_title, series) in zip(axes.flat, panels):
        for xs, ys, label, style in series:
            ax.plot(xs, ys, label=label, linestyle=style, marker=marker or None, markersize=3)
        ax.set_title(panel_title, fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel(PANEL_Y_LABELS.get(panel_title, panel_title), fontsize=9)
        ax.grid(alpha=0.3)
        if series:
            ax.legend(fontsize=8, loc="best", framealpha=0.6)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return save_plot(out, fig, dpi=100)


def plot_curves(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the loss, D-output, D-accuracy and gradient-norm curves of a run as one PNG (default
    RunDir.curves); held-out series dashed."""
    run_dir = Path(run_dir)
    records = [r for r in read_metrics(run_dir) if "loss_d" in r]
    panels = []
    for title, keys in PANELS:
        series = []
        for key, label in keys:
            points = [(r["epoch"], r[key]) for r in records if key in r]
            if points:
                series.append((*_xy(points), label, "--" if "heldout" in key else "-"))
        panels.append((title, series))
    return _save_panels(Path(out) if out else RunDir(run_dir).curves, panels,
                        curves_title(run_dir.resolve().name))


def eval_series(run_dir: str | Path) -> dict[str, list[tuple[float, float]]]:
    """Per metric name (e.g. fid10k_test, is10k), its (epoch, value) points from the run's eval records
    (``{"kind": "eval", "epoch": e, "metrics": {name: {"value": v, ...}}}``, written by the training loop)."""
    series: dict[str, list[tuple[float, float]]] = {}
    for x, r in eval_records(run_dir):
        for key, record in r["metrics"].items():
            value = record.get("value")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                series.setdefault(key, []).append((float(x), float(value)))
    return series


def plot_eval_curves(run_dir: str | Path, out: str | Path | None = None) -> Path | None:
    """Write FID / IS / ... over training as one PNG (default figures/eval.png), one panel per metric
    family (fid*, is*, the rest); None when the run logged no evaluation."""
    series = eval_series(run_dir)
    if not series:
        return None
    families: dict[str, list[str]] = {}
    for key in sorted(series):
        family = "FID" if key.startswith("fid") else "IS" if key.startswith("is") else key.split("_")[0]
        families.setdefault(family, []).append(key)
    out = Path(out) if out else RunDir(run_dir).eval_curves
    panels = [(family, [(*_xy(series[key]), key, "-") for key in keys]) for family, keys in families.items()]
    return _save_panels(out, panels, eval_title(Path(run_dir).resolve().name, list(families)), marker="o")
