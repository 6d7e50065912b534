"""Class "mean" images: z = 0 for each class, beside random samples of that class (report 002 §2.1)."""

from __future__ import annotations

import torch

from ganlab.errors import GanlabError
from ganlab.explore.common import Explorer, ExploreResult, pixel_distance, save_figure, save_numbers


def class_means(ex: Explorer, per_class: int = 8, seed: int = 0) -> ExploreResult:
    """One grid: a row per class, column 0 the z = 0 image, then ``per_class`` random samples
    (seeds seed, seed+1, ...); class_means.json holds how far the z = 0 image is from each sample
    and from the samples' pixel average."""
    if per_class < 1:
        raise GanlabError(f"--per-class must be >= 1, got {per_class}")
    k = ex.num_classes
    z = torch.cat([torch.zeros(1, ex.z_dim), ex.latents([seed + j for j in range(per_class)]).cpu()])  # (1+n, z_dim)
    z = z.repeat(k, 1)  # (k*(1+n), z_dim): the same latents in every class row
    codes = ex.codes([c for c in range(k) for _ in range(per_class + 1)]).cpu()
    images = ex.render(z, codes)  # (k*(1+n), C, H, W)
    figure = save_figure(ex, "class_means", images, per_class + 1,
                         "Class means: z = 0 (first column) beside random samples; a row per class",
                         [f"class {c}" for c in range(k)], ["z = 0", *(f"seed {seed + j}" for j in range(per_class))])
    rows = images.view(k, per_class + 1, *images.shape[1:])
    means, samples = rows[:, 0], rows[:, 1:]
    per_class_numbers = []
    for c in range(k):
        average = samples[c].float().mean(dim=0, keepdim=True)
        per_class_numbers.append({
            "class": c,
            "zero_to_samples": pixel_distance(means[c:c + 1].expand_as(samples[c]), samples[c]).tolist(),
            "zero_to_sample_average": float(pixel_distance(means[c:c + 1], average)[0]),
        })
    return save_numbers(ex, "class_means", {"per_class": per_class, "seed": seed, "columns": "z=0, then samples",
                                            "classes": per_class_numbers}, [figure])
