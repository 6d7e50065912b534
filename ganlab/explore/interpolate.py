"""Interpolation between two samples: z1 -> z2 in K steps, within a class or across two classes.

Report 001 §5 (z1 + i/K (z2 - z1), i = 0..K, 5 pairs, K = 10) and report 002 §2.4 (within a class,
and across classes by moving the label embedding). The label code always moves linearly; the
latent moves linearly, spherically, or both (one figure each).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

import torch

from ganlab.errors import GanlabError
from ganlab.explore.common import ExploreResult, Explorer, pixel_distance, save_figure, save_numbers

METHODS = ("linear", "spherical")


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Points a + t (b - a) for each t: a, b (D,), t (K,) -> (K, D)."""
    return a[None] + t[:, None] * (b - a)[None]


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation along the great circle from a to b (norms interpolated linearly);
    falls back to ``lerp`` when a or b is zero or they are (anti-)parallel. a, b (D,), t (K,) -> (K, D)."""
    na, nb = a.norm(), b.norm()
    if na < 1e-8 or nb < 1e-8:
        return lerp(a, b, t)
    ua, ub = a / na, b / nb
    omega = torch.arccos(torch.clamp((ua * ub).sum(), -1.0, 1.0))
    if torch.sin(omega) < 1e-6:
        return lerp(a, b, t)
    direction = (torch.sin((1 - t)[:, None] * omega) * ua + torch.sin(t[:, None] * omega) * ub) / torch.sin(omega)
    return direction * (na + t * (nb - na))[:, None]


INTERPOLATORS = {"linear": lerp, "spherical": slerp}


@dataclass
class Pair:
    """The two ends of one interpolation: each a seed (its latent) and a class (its label code)."""

    seed_a: int
    seed_b: int
    class_a: int
    class_b: int


def choose_pairs(ex: Explorer, count: int, seed: int, pair_seeds: Sequence[tuple[int, int]] | None,
                 class_a: int | None, class_b: int | None, across: bool) -> list[Pair]:
    """``count`` pairs: seeds given or drawn from ``seed``; classes given, else drawn (a different
    end class when ``across``, the same class otherwise)."""
    if across and not ex.conditional:
        raise GanlabError("interpolating across classes needs a conditional generator; this run has "
                          "model.conditioning=none (drop --across)")
    if across and ex.num_classes < 2 and class_b is None:
        raise GanlabError("interpolating across classes needs at least two classes")
    rng = random.Random(seed)
    if pair_seeds is not None:
        count = len(pair_seeds)
    if count < 1:
        raise GanlabError("nothing to interpolate: give --pairs of at least 1 or some --pair-seeds")
    pairs = []
    for i in range(count):
        sa, sb = pair_seeds[i] if pair_seeds is not None else (rng.randrange(100_000), rng.randrange(100_000))
        ca = class_a if class_a is not None else rng.randrange(ex.num_classes)
        if class_b is not None:
            cb = class_b
        elif across:
            cb = rng.choice([c for c in range(ex.num_classes) if c != ca])
        else:
            cb = ca
        ex.check_classes([ca, cb])
        pairs.append(Pair(int(sa), int(sb), ca, cb))
    return pairs


def interpolate(ex: Explorer, steps: int = 10, pairs: int = 5, seed: int = 0,
                pair_seeds: Sequence[tuple[int, int]] | None = None, class_a: int | None = None,
                class_b: int | None = None, across: bool = False,
                methods: Sequence[str] = METHODS) -> ExploreResult:
    """One grid per method (rows = pairs, columns = the K + 1 points t = i/K), and interpolate.json."""
    if steps < 1:
        raise GanlabError(f"--steps must be >= 1 (K intervals, K + 1 images), got {steps}")
    unknown = [m for m in methods if m not in INTERPOLATORS]
    if unknown or not methods:
        raise GanlabError(f"unknown interpolation method(s) {unknown}; use {', '.join(METHODS)}")
    chosen = choose_pairs(ex, pairs, seed, pair_seeds, class_a, class_b, across)
    t = torch.linspace(0.0, 1.0, steps + 1)  # (K+1,)
    z_a = ex.latents([p.seed_a for p in chosen]).cpu()  # (P, z_dim)
    z_b = ex.latents([p.seed_b for p in chosen]).cpu()
    code_a = ex.codes([p.class_a for p in chosen]).cpu()  # (P, label_dim)
    code_b = ex.codes([p.class_b for p in chosen]).cpu()
    codes = torch.cat([lerp(code_a[i], code_b[i], t) for i in range(len(chosen))])  # (P*(K+1), label_dim)
    figures, per_method = [], {}
    for method in methods:
        z = torch.cat([INTERPOLATORS[method](z_a[i], z_b[i], t) for i in range(len(chosen))])  # (P*(K+1), z_dim)
        images = ex.render(z, codes)  # (P*(K+1), C, H, W)
        frames = images.view(len(chosen), steps + 1, *images.shape[1:])
        title = (f"{method.capitalize()} interpolation of z from seed a to seed b (the label code moves linearly); "
                 f"a row per pair\ncolumns: t = 0 .. 1 in {steps} steps")
        rows = [f"{p.seed_a}/c{p.class_a} > {p.seed_b}/c{p.class_b}" for p in chosen]
        figures.append({"method": method, **save_figure(ex, f"interpolate_{method}", images, steps + 1, title, rows,
                                                        [f"{v:.2g}" for v in t.tolist()])})
        per_method[method] = {
            "z_norms": z.norm(dim=1).view(len(chosen), steps + 1).tolist(),
            "step_change": [pixel_distance(f[1:], f[:-1]).tolist() for f in frames],  # consecutive frames
        }
    return save_numbers(ex, "interpolate", {
        "steps": steps, "t": t.tolist(), "pairs": [vars(p) for p in chosen], "label_code_path": "linear",
        "methods": per_method}, figures)
