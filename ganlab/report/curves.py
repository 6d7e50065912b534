"""Training curves of a run, drawn from its metrics.jsonl."""

from __future__ import annotations

from pathlib import Path

from ganlab.io import atomic_write
from ganlab.train.metrics_log import read_metrics

PANELS = (
    ("losses", (("loss_d", "D loss"), ("loss_g", "G loss"), ("heldout_loss_d", "D loss, held-out"))),
    ("D outputs", (("d_real", "D(x)"), ("d_fake", "D(G(z))"), ("heldout_d_real", "D(x), held-out"),
                   ("heldout_d_fake", "D(G(z)), held-out"))),
    ("D accuracy", (("acc_real", "real"), ("acc_fake", "fake"), ("heldout_acc_real", "real, held-out"),
                    ("heldout_acc_fake", "fake, held-out"))),
)


def plot_curves(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the loss, D-output and D-accuracy curves of a run as one PNG (default figures/curves.png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    records = [r for r in read_metrics(run_dir) if "loss_d" in r]
    out = Path(out) if out else run_dir / "figures" / "curves.png"
    fig, axes = plt.subplots(1, len(PANELS), figsize=(5 * len(PANELS), 3.6))
    for ax, (title, series) in zip(axes, PANELS):
        for key, label in series:
            points = [(r["epoch"], r[key]) for r in records if key in r]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, label=label, linestyle="--" if "heldout" in key else "-")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(out, lambda p: fig.savefig(p, format="png", dpi=100))
    plt.close(fig)
    return out
