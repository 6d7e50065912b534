"""Diversity within each class: an N x N grid of samples per class (report 002 §2.1)."""

from __future__ import annotations

from typing import Sequence

import torch

from ganlab.errors import GanlabError
from ganlab.explore.common import Explorer, ExploreResult, save_figure, save_numbers


def mean_pairwise_distance(images: torch.Tensor) -> float:
    """Mean absolute pixel difference (uint8 units) over all distinct pairs of images (N, C, H, W)."""
    flat = images.flatten(1).float()  # (N, D)
    n = flat.shape[0]
    if n < 2:
        return 0.0
    total = torch.cdist(flat, flat, p=1).sum() / flat.shape[1]  # each pair counted twice
    return float(total / (n * (n - 1)))


def diversity(ex: Explorer, side: int = 8, classes: Sequence[int] | None = None, seed: int = 0) -> ExploreResult:
    """A ``side`` x ``side`` grid per class (diversity_class_C.png, seeds seed..seed+side^2-1), and
    diversity.json with each class's mean pairwise pixel distance and per-pixel spread."""
    if side < 1:
        raise GanlabError(f"--side must be >= 1, got {side}")
    classes = ex.check_classes(classes if classes is not None else range(ex.num_classes))
    z = ex.latents([seed + i for i in range(side * side)]).cpu()  # (side^2, z_dim)
    figures, numbers = [], []
    for c in classes:
        images = ex.render(z, ex.codes([c] * len(z)).cpu())
        title = f"Class {c}: {side * side} samples, seeds {seed}..{seed + side * side - 1} row by row"
        figures.append({"class": c, **save_figure(ex, f"diversity_class_{c}", images, side, title)})
        numbers.append({"class": c, "mean_pairwise_pixel_distance": mean_pairwise_distance(images),
                        "mean_pixel_std": float(images.float().std(dim=0).mean()) if len(images) > 1 else 0.0})
    return save_numbers(ex, "diversity", {"side": side, "seed": seed, "classes": numbers}, figures)
