"""A distance matrix between runs and the real images (report 000, table 1): FID or cfd of every pair."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from ganlab.config import EvalConfig
from ganlab.data import load_data
from ganlab.devices import resolve_device
from ganlab.errors import GanlabError
from ganlab.io import atomic_write_json, atomic_write_text
from ganlab.metrics.evaluate import distance_matrix
from ganlab.metrics.samplers import Sampler, generator_sampler
from ganlab.models.export import load_run_generator
from ganlab.plotting import pyplot, save_plot

REAL = "real"


@dataclass
class MatrixResult:
    names: list[str]
    matrix: np.ndarray
    files: list[Path]


def real_sampler(images: torch.Tensor, labels: torch.Tensor, conditional: bool) -> Sampler:
    """Real images as a sampler: for each asked label the next image of that class (cycling)."""
    by_class = {int(c): images[labels == c] for c in labels.unique()} if conditional else {0: images}
    used = {c: 0 for c in by_class}

    def sample(asked: torch.Tensor) -> torch.Tensor:
        out = []
        for c in (asked.tolist() if conditional else [0] * len(asked)):
            out.append(by_class[c][used[c] % len(by_class[c])])
            used[c] += 1
        return torch.stack(out)

    return sample


def compare_runs(run_dirs: Sequence[str | Path], out: str | Path, metric: str = "fid", n: int = 2000,
                 real: Optional[str] = "test", names: Optional[Sequence[str]] = None, seed: int = 0,
                 device: str | torch.device = "auto") -> MatrixResult:
    """``metric`` between the generators of ``run_dirs`` (``n`` samples each, latent seeds seed..) and, unless
    ``real`` is None, the ``real`` split of their data set: OUT.csv, OUT.md, OUT.json and a heat map OUT.png."""
    dev = resolve_device(device)
    loaded = [load_run_generator(r, None, dev) for r in run_dirs]
    if not loaded:
        raise GanlabError("give at least one run directory to compare")
    data, spec = loaded[0][1].data, loaded[0][2]
    for path, (_, cfg, other, _) in zip(run_dirs, loaded):
        if (cfg.data.name, other) != (data.name, spec):
            raise GanlabError(f"{path} was trained on {cfg.data.name} {other}, the first run on {data.name} {spec}; "
                              f"compare runs of one data set and image size")
    samplers = {name: generator_sampler(g, cfg.model.z_dim, dev, seed)
                for name, (g, cfg, _, _) in zip(names or [Path(r).name for r in run_dirs], loaded)}
    if real is not None:
        split = load_data(data).train if real == "train" else load_data(data).test
        if split is None:
            raise GanlabError(f"{data.name} has no {real} split; pass --real train")
        samplers[f"{REAL} ({real})"] = real_sampler(split.images, split.labels, spec.num_classes > 0)
    labels, matrix = distance_matrix(samplers, n, spec.num_classes, metric, data, EvalConfig(), dev)
    out = Path(out)
    files = _write(out, labels, matrix, matrix_title(out.resolve().parent.name, metric, n, data.name),
                    colour_bar_label(metric, n))
    return MatrixResult(labels, matrix, files)


def matrix_title(study: str, metric: str, n: int, data_name: str) -> str:
    """The title of a distance matrix: the study (the folder it is written to) and what is compared."""
    return f"{study}: {metric.upper()} between image sets, {n} images each ({data_name})"


def colour_bar_label(metric: str, n: int) -> str:
    """The heat map's colour bar label: the metric and the sample size behind each cell."""
    return f"{metric.upper()} ({n:,} images per set; lower = closer)"


def _write(out: Path, names: list[str], matrix: np.ndarray, title: str, colour_label: str = "") -> list[Path]:
    csv = ["," + ",".join(names)] + [name + "," + ",".join(f"{v:.4f}" for v in row) for name, row in zip(names, matrix)]
    md = [title, "", "| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    md += ["| " + name + " | " + " | ".join(f"{v:.1f}" for v in row) + " |" for name, row in zip(names, matrix)]
    return [atomic_write_text(out.with_suffix(".csv"), "\n".join(csv) + "\n"),
            atomic_write_text(out.with_suffix(".md"), "\n".join(md) + "\n"),
            atomic_write_json(out.with_suffix(".json"), {"title": title, "names": names, "matrix": matrix.tolist()}),
            plot_heat_map(out.with_suffix(".png"), names, matrix, title, colour_label)]


def plot_heat_map(path: Path, names: list[str], matrix: np.ndarray, title: str, colour_label: str = "") -> Path:
    """The matrix as a heat map with its values written in the cells, the colour bar labelled ``colour_label``
    (the metric and sample size)."""
    plt = pyplot()


    k = len(names)
    fig, ax = plt.subplots(figsize=(1.1 * k + 2.5, 0.9 * k + 1.6))
    im = ax.imshow(matrix, cmap="viridis")
    ax.set_xticks(range(k), names, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    top = float(matrix.max()) or 1.0
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{matrix[i, j]:.1f}", ha="center", va="center", fontsize=7,
                    color="white" if matrix[i, j] < 0.6 * top else "black")
    ax.set_title(title, fontsize=9)
    bar = fig.colorbar(im, ax=ax, fraction=0.046)
    if colour_label:
        bar.set_label(colour_label, fontsize=8)
    fig.tight_layout()
    return save_plot(path, fig, dpi=100)
