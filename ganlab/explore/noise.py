"""Robustness to noise: z + eps * e and, separately, label code + eps * e, for growing eps.

Report 002 §2.5. The noise direction e ~ N(0, I) is drawn once (from ``noise_seed``) and only
scaled, so the grids of growing eps show the same samples moving further along one direction.
"""

from __future__ import annotations

from typing import Sequence

from ganlab.errors import GanlabError
from ganlab.explore.common import Explorer, ExploreResult, gaussian, pixel_distance, save_figure, save_numbers

DEFAULT_EPS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)
TARGETS = ("z", "label")


def noise(ex: Explorer, eps: Sequence[float] = DEFAULT_EPS, per_class: int = 8, seed: int = 0,
          noise_seed: int = 1, targets: Sequence[str] = TARGETS) -> ExploreResult:
    """A grid per (target, eps): rows = classes, ``per_class`` samples a row; noise.json holds the
    mean pixel change from the eps = 0 images per eps (overall and per class)."""
    unknown = [t for t in targets if t not in TARGETS]
    if unknown or not targets:
        raise GanlabError(f"unknown noise target(s) {unknown}; use {', '.join(TARGETS)}")
    if any(e < 0 for e in eps) or not eps:
        raise GanlabError(f"--eps must be non-negative numbers, got {list(eps)}")
    if per_class < 1:
        raise GanlabError(f"--per-class must be >= 1, got {per_class}")
    usable = {"z": ex.z_dim > 0, "label": ex.conditional}
    skipped = {t: ("z_dim is 0" if t == "z" else "the generator is unconditional") for t in targets if not usable[t]}
    targets = [t for t in targets if usable[t]]
    if not targets:
        raise GanlabError(f"no noise target applies to this run ({'; '.join(skipped.values())})")

    classes = [c for c in range(ex.num_classes) for _ in range(per_class)]
    z0 = ex.latents([seed + i for i in range(len(classes))]).cpu()  # (N, z_dim)
    code0 = ex.codes(classes).cpu()  # (N, label_dim)
    clean = ex.render(z0, code0)
    eps = sorted(float(e) for e in eps)
    figures, results = [], {}
    for k, target in enumerate(targets):
        base = z0 if target == "z" else code0
        direction = gaussian(tuple(base.shape), noise_seed + k)  # (N, dim), one draw scaled by each eps
        rows = []
        for e in eps:
            noisy = base + e * direction
            images = ex.render(noisy, code0) if target == "z" else ex.render(z0, noisy)
            name = f"noise_{target}_eps{e:g}"
            what = "z" if target == "z" else "the label code"
            figures.append({"target": target, "eps": e, **save_figure(
                ex, name, images, per_class, f"Noise of eps {e:g} on {what}; a row per class, the same samples in "
                                             f"every figure", [f"class {c}" for c in range(ex.num_classes)],
                [f"seed {seed + i}" for i in range(per_class)])})
            change = pixel_distance(images, clean).view(ex.num_classes, per_class)  # (classes, per_class)
            rows.append({"eps": e, "mean_pixel_change": float(change.mean()),
                         "per_class_pixel_change": change.mean(dim=1).tolist(),
                         "noise_norm": float((e * direction).norm(dim=1).mean())})
        results[target] = rows
    return save_numbers(ex, "noise", {"eps": eps, "per_class": per_class, "seed": seed, "noise_seed": noise_seed,
                                      "targets": results, "skipped": skipped}, figures)
