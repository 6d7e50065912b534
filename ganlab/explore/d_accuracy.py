"""The discriminator's accuracy per class, on real and on generated images (report 002, table 3)."""

from __future__ import annotations

from pathlib import Path

import torch

from ganlab.errors import GanlabError
from ganlab.explore.common import Explorer, ExploreResult, save_numbers
from ganlab.explore.real_vs_fake import SPLITS, real_rows
from ganlab.images import class_label
from ganlab.io import atomic_write_text
from ganlab.metrics.classifier import per_class_d_accuracy
from ganlab.models import build_models
from ganlab.models.normalization import as_in_training
from ganlab.plotting import pyplot, save_plot
from ganlab.training.checkpoint import load_checkpoint


def load_discriminator(ex: Explorer) -> torch.nn.Module:
    """The run's discriminator from its last checkpoint, in eval mode on the explorer's device."""
    _, d = build_models(ex.cfg.model, ex.spec)
    d.load_state_dict(load_checkpoint(ex.run_dir)["D"])
    return d.to(ex.device).eval()


def d_accuracy(ex: Explorer, per_class: int = 500, split: str = "test", seed: int = 0) -> ExploreResult:
    """Per class, the share of ``per_class`` real images (of the run's ``split``) that D calls real (logit > 0)
    and of as many generated ones (seeds seed..) that it calls fake: d_accuracy.json / .md / .csv and a bar
    chart, d_accuracy.png."""
    if per_class < 1:
        raise GanlabError(f"--per-class must be >= 1, got {per_class}")
    if split not in SPLITS:
        raise GanlabError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    d = load_discriminator(ex)
    real, _, names = real_rows(ex, split, per_class, seed)  # (k, n, C, H, W)
    k = ex.num_classes
    labels = torch.arange(k).repeat_interleave(per_class)
    fake = ex.render(ex.latents([seed + i for i in range(k * per_class)]).cpu(), ex.codes(labels.tolist()).cpu())
    with torch.no_grad(), as_in_training(d):  # batches of the run's size, D as training runs it
        rows = per_class_d_accuracy(lambda x, y: d(x, y), real.flatten(0, 1), labels, fake, labels, k,
                                    batch_size=ex.cfg.train.batch_size, device=ex.device)
    for row in rows:
        row["name"] = names[row["class"]]
    _write_tables(ex.out_dir, rows, split, ex.source)
    plot = plot_d_accuracy(ex.out_dir / "d_accuracy.png", rows, f"{ex.source}: D's accuracy per class, "
                           f"{per_class} {split} and {per_class} generated images each")
    result = save_numbers(ex, "d_accuracy", {"split": split, "per_class": per_class, "seed": seed,
                                             "classes": rows,
                                             "real_acc": sum(r["real_acc"] for r in rows) / k,
                                             "fake_acc": sum(r["fake_acc"] for r in rows) / k}, [])
    result.pngs.append(plot)
    return result


def _write_tables(folder: Path, rows: list[dict], split: str, source: str) -> None:
    lines = [f"D's accuracy per class on {split} images and on generated ones ({source})", "",
             "| class | real accuracy | fake accuracy | real images | fake images |", "|---|---|---|---|---|"]
    lines += [f"| {r['name']} | {100 * r['real_acc']:.1f}% | {100 * r['fake_acc']:.1f}% | {r['n_real']} "
              f"| {r['n_fake']} |" for r in rows]
    atomic_write_text(folder / "d_accuracy.md", "\n".join(lines) + "\n")
    csv = ["class,name,real_acc,fake_acc,n_real,n_fake"]
    csv += [f"{r['class']},{r['name']},{r['real_acc']:.6f},{r['fake_acc']:.6f},{r['n_real']},{r['n_fake']}"
            for r in rows]
    atomic_write_text(folder / "d_accuracy.csv", "\n".join(csv) + "\n")


def plot_d_accuracy(path: Path, rows: list[dict], title: str) -> Path:
    """Grouped bars: real and fake accuracy per class."""
    plt = pyplot()


    xs = range(len(rows))
    fig, ax = plt.subplots(figsize=(max(5, 0.6 * len(rows) + 2), 3.4))
    ax.bar([x - 0.2 for x in xs], [100 * r["real_acc"] for r in rows], 0.4, label="real called real", color="#4878a8")
    ax.bar([x + 0.2 for x in xs], [100 * r["fake_acc"] for r in rows], 0.4, label="fake called fake", color="#c44e52")
    ax.set_xticks(list(xs), [class_label(r["class"], str(r["name"]))[:12] for r in rows])
    ax.set_ylim(0, 100)
    ax.set_xlabel("class")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)  # bars reach 100%
    fig.tight_layout()
    return save_plot(path, fig, dpi=100)
