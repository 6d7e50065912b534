"""``ganlab sample``: seeded samples of a run's generator (or an export file) as a grid and raw arrays."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from ganlab.data.sampler import to_uint8
from ganlab.devices import resolve_device
from ganlab.errors import GanlabError
from ganlab.models.export import load_generator_source
from ganlab.models.generation import (
    GRID_MAX_IMAGES,
    Samples,
    generate,
    grid_columns,
    grid_too_large,
    latents_for_seeds,
    seeded_labels,
)


def sample_images(source: str | Path, labels: Sequence[int] | None = None, n: int | None = None,
                  seeds: Sequence[int] | None = None, epoch: int | None = None,
                  device: str | torch.device = "auto") -> Samples:
    """Samples from a run's generator export: sample i from seeds[i] (default 0..n-1), labels in blocks."""
    device = resolve_device(device)
    g, cfg, spec, _ = load_generator_source(source, epoch, device)
    if spec.num_classes == 0:
        labels = [0]
    elif labels is None:
        labels = list(range(spec.num_classes))
    bad = [c for c in labels if not 0 <= c < max(1, spec.num_classes)]
    if bad:
        raise GanlabError(f"label(s) {bad} out of range: this generator knows classes 0..{spec.num_classes - 1}")
    if seeds is None:
        seeds = list(range(n if n is not None else 8 * len(labels)))
    elif n is not None and n != len(seeds):
        raise GanlabError(f"--n {n} disagrees with {len(seeds)} seeds; give one of them")
    if not seeds:
        raise GanlabError("nothing to sample: give --n above 0 or some --seeds")
    z = latents_for_seeds(seeds, cfg.model.z_dim, device)
    y = seeded_labels(len(seeds), labels).to(device)
    images = to_uint8(generate(g, z, y)).cpu()
    return Samples(images, y.cpu(), list(seeds))


def write_samples(source: str | Path, png: str | Path | None, npz: str | Path | None = None,
                  columns: int | None = None, labels: Sequence[int] | None = None, n: int | None = None,
                  seeds: Sequence[int] | None = None, epoch: int | None = None,
                  device: str | torch.device = "auto") -> str:
    """What ``ganlab sample`` does: draw the samples (``sample_images``) and write the PNG grid (wrapped into rows
    of at most ``GRID_MAX_COLUMNS`` unless ``columns`` is given) and/or the .npz; one line saying what was
    written. A PNG of more than ``GRID_MAX_IMAGES`` samples is refused before sampling unless an .npz is asked
    for (then only the .npz is written)."""
    count = len(seeds) if seeds is not None else n
    if png and not npz and count is not None and count > GRID_MAX_IMAGES:
        raise GanlabError(grid_too_large(count))
    if columns is not None:
        grid_columns(1, 1, columns)  # refuse a bad --columns before sampling
    return sample_images(source, labels, n, seeds, epoch, device).save(png, npz, columns)
