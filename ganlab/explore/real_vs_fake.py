"""Real images beside generated ones, a row per class (report 002, figures 3 and 4: real and generated digits)."""

from __future__ import annotations

import torch

from ganlab.data import load_data
from ganlab.data.select import random_per_class
from ganlab.errors import GanlabError
from ganlab.explore.common import Explorer, ExploreResult, pixel_distance, save_figure, save_numbers
from ganlab.images import class_label

SPLITS = ("train", "test")


def real_rows(ex: Explorer, split: str, per_class: int, seed: int) -> tuple[torch.Tensor, list[list[int]], list[str]]:
    """``per_class`` real images of each of the generator's classes from the run's data (its ``split``, as the run
    saw it: classes, caps, hold-out and ``data.limit``), chosen at random by ``seed``: uint8 (k, n, C, H, W), the
    chosen indices into the split per class, and the class names."""
    splits = load_data(ex.cfg.data)
    data = splits.train if split == "train" else splits.test
    if data is None:
        raise GanlabError(f"the run's data '{ex.cfg.data.name}' has no test split; use --split train")
    made = (ex.spec.channels, ex.spec.resolution, ex.spec.resolution)
    if tuple(data.images.shape[1:]) != made:
        raise GanlabError(f"the run's data now loads as images {tuple(data.images.shape[1:])}, its generator makes "
                          f"{made}; check the run's data.* config")
    picks = random_per_class(data, ex.num_classes if ex.conditional else 0, per_class, seed,
                             f"the {split} split", "lower --per-class")
    names = list(data.class_names) if ex.conditional else ["all"]
    return torch.stack([data.images[pick] for pick in picks]), [pick.tolist() for pick in picks], names


def real_vs_fake(ex: Explorer, per_class: int = 8, split: str = "train", seed: int = 0) -> ExploreResult:
    """One grid, a row per class: ``per_class`` real images of the run's ``split`` (left), a white separator column,
    and ``per_class`` generated ones from seeds seed, seed+1, ... (right; the same latents in every row).
    real_vs_fake.json holds the real images' indices and, per class, the mean pixel value of both sides and
    the distance between their average images."""
    if per_class < 1:
        raise GanlabError(f"--per-class must be >= 1, got {per_class}")
    if split not in SPLITS:
        raise GanlabError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    real, indices, names = real_rows(ex, split, per_class, seed)  # (k, n, C, H, W)
    k = ex.num_classes
    seeds = [seed + j for j in range(per_class)]
    z = ex.latents(seeds).cpu().repeat(k, 1)  # (k*n, z_dim)
    fake = ex.render(z, ex.codes([c for c in range(k) for _ in seeds]).cpu()).view_as(real)  # (k, n, C, H, W)
    gap = torch.full_like(real[:, :1], 255)  # (k, 1, C, H, W): a white column between the two grids
    images = torch.cat([real, gap, fake], 1).flatten(0, 1)  # (k*(2n+1), C, H, W)
    rows = [class_label(c, names[c])[:24] if ex.conditional else names[c] for c in range(k)]
    figure = save_figure(ex, "real_vs_fake", images, 2 * per_class + 1,
                         f"Real {split} images (left) beside generated ones (right); a row per class",
                         rows, ["real"] * per_class + [""] + [f"seed {s}" for s in seeds])
    per_row = [{"class": c, "name": names[c], "real_indices": indices[c],
                "real_mean": round(float(real[c].float().mean()), 4),
                "generated_mean": round(float(fake[c].float().mean()), 4),
                "average_image_distance": round(float(pixel_distance(real[c].float().mean(0, keepdim=True),
                                                                     fake[c].float().mean(0, keepdim=True))[0]), 4)}
               for c in range(k)]
    return save_numbers(ex, "real_vs_fake", {
        "split": split, "per_class": per_class, "seed": seed, "generated_seeds": seeds,
        "columns": {"real": list(range(per_class)), "separator": per_class,
                    "generated": list(range(per_class + 1, 2 * per_class + 1))},
        "classes": per_row}, [figure])
