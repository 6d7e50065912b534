"""Interpolation between two samples: z1 -> z2 in K steps, within a class or across two classes.

Report 001 §5 (z1 + i/K (z2 - z1), i = 0..K, 5 pairs, K = 10) and report 002 §2.4 (within a class,
and across classes by moving the label embedding; figure 11 starts from the "mean" image z = 0). A path
starts at its first seed's latent, or at z = 0 or a given latent vector (``Start``). The label code always
moves linearly; the latent moves linearly, spherically, or both (one figure each; from z = 0 the two agree).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch

from ganlab.errors import GanlabError
from ganlab.explore.common import Explorer, ExploreResult, pixel_distance, save_figure, save_numbers

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
class Start:
    """Where every path starts instead of at its first seed's latent: z = 0, or a latent vector read from a file."""

    kind: str  # zero | latent
    latent: torch.Tensor  # (z_dim,)
    file: Optional[str] = None  # the .npy file of a given latent

    @property
    def label(self) -> str:
        """How a figure names the start."""
        return "z=0" if self.kind == "zero" else Path(self.file or "latent").name

    def describe(self) -> dict[str, Any]:
        """The start as JSON: its kind, and for a given latent the file and the numbers."""
        return {"kind": self.kind, **({"file": self.file, "latent": self.latent.tolist()} if self.file else {})}


def zero_start(ex: Explorer) -> Start:
    """Paths from z = 0, the 'mean' latent (report 002, figure 11)."""
    _need_latent(ex, "--from-zero")
    return Start("zero", torch.zeros(ex.z_dim))


def latent_start(ex: Explorer, path: str | Path) -> Start:
    """Paths from the latent vector in a .npy file of z_dim numbers (shape (z_dim,) or (1, z_dim))."""
    _need_latent(ex, "--from-latent")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise GanlabError(f"cannot read the latent file {path} ({type(e).__name__}); pass a .npy of "
                          f"{ex.z_dim} numbers (numpy.save)") from None
    if array.size != ex.z_dim or array.ndim > 2 or not np.issubdtype(array.dtype, np.number):
        raise GanlabError(f"{path} holds an array of shape {array.shape}; --from-latent needs {ex.z_dim} numbers "
                          f"(this generator's z_dim)")
    latent = torch.from_numpy(array.astype(np.float32).reshape(-1))
    if not torch.isfinite(latent).all():
        raise GanlabError(f"{path} holds NaN or infinite values; --from-latent needs finite numbers")
    return Start("latent", latent, str(path))


def _need_latent(ex: Explorer, option: str) -> None:
    if ex.z_dim == 0:
        raise GanlabError(f"this generator has no latent (model.z_dim=0), so {option} has nothing to start from; "
                          f"drop it")


@dataclass
class Pair:
    """The two ends of one interpolation: each a seed (its latent) and a class (its label code)."""

    seed_a: Optional[int]  # None when the path starts from a ``Start`` instead
    seed_b: int
    class_a: int
    class_b: int
    start: str = "seed"  # where the path starts: seed (seed_a's latent) | zero | latent (see Start)


def choose_pairs(ex: Explorer, count: int, seed: int, pair_seeds: Sequence[tuple[int, int]] | None,
                 class_a: int | None, class_b: int | None, across: bool, start: Start | None = None,
                 to_seeds: Sequence[int] | None = None) -> list[Pair]:
    """``count`` pairs: seeds given (``pair_seeds``, or ``to_seeds`` as the ends of paths from ``start``) or drawn
    from ``seed``; classes given, else drawn (a different end class when ``across``, the same class otherwise)."""
    if across and not ex.conditional:
        raise GanlabError("interpolating across classes needs a conditional generator; this run has "
                          "model.conditioning=none (drop --across)")
    if across and ex.num_classes < 2 and class_b is None:
        raise GanlabError("interpolating across classes needs at least two classes")
    if start is not None and pair_seeds is not None:
        raise GanlabError("--pair-seeds gives both ends of a path; from z = 0 or a latent file give the end seeds "
                          "with --to-seeds (e.g. --to-seeds 3,7)")
    if start is None and to_seeds is not None:
        raise GanlabError("--to-seeds gives the ends of paths from --from-zero or --from-latent; for paths "
                          "between two seeds use --pair-seeds A,B")
    rng = random.Random(seed)
    if pair_seeds is not None or to_seeds is not None:
        count = len(pair_seeds if pair_seeds is not None else to_seeds)  # type: ignore[arg-type]
    if count < 1:
        raise GanlabError("nothing to interpolate: give --pairs of at least 1 or some --pair-seeds")
    pairs = []
    for i in range(count):
        if pair_seeds is not None:
            sa, sb = pair_seeds[i]
        elif to_seeds is not None:
            sa, sb = None, to_seeds[i]
        else:
            sa, sb = rng.randrange(100_000), rng.randrange(100_000)
        sa = None if start is not None else sa
        ca = class_a if class_a is not None else rng.randrange(ex.num_classes)
        if class_b is not None:
            cb = class_b
        elif across:
            cb = rng.choice([c for c in range(ex.num_classes) if c != ca])
        else:
            cb = ca
        ex.check_classes([ca, cb])
        pairs.append(Pair(None if sa is None else int(sa), int(sb), ca, cb, start.kind if start else "seed"))
    return pairs


def interpolate(ex: Explorer, steps: int = 10, pairs: int = 5, seed: int = 0,
                pair_seeds: Sequence[tuple[int, int]] | None = None, class_a: int | None = None,
                class_b: int | None = None, across: bool = False,
                methods: Sequence[str] = METHODS, start: Start | None = None,
                to_seeds: Sequence[int] | None = None) -> ExploreResult:
    """One grid per method (rows = pairs, columns = the K + 1 points t = i/K), and interpolate.json.
    Paths start at their first seed's latent, or all at ``start`` (z = 0 or a given latent) and end at ``to_seeds``."""
    if steps < 1:
        raise GanlabError(f"--steps must be >= 1 (K intervals, K + 1 images), got {steps}")
    unknown = [m for m in methods if m not in INTERPOLATORS]
    if unknown or not methods:
        raise GanlabError(f"unknown interpolation method(s) {unknown}; use {', '.join(METHODS)}")
    chosen = choose_pairs(ex, pairs, seed, pair_seeds, class_a, class_b, across, start, to_seeds)
    t = torch.linspace(0.0, 1.0, steps + 1)  # (K+1,)
    if start is not None:
        z_a = start.latent[None].expand(len(chosen), -1)  # (P, z_dim)
    else:
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
        origin = f"{start.label} (every row)" if start else "seed a"
        title = (f"{method.capitalize()} interpolation of z from {origin} to seed b (the label code moves linearly); "
                 f"a row per pair\ncolumns: t = 0 .. 1 in {steps} steps")
        rows = [f"{start.label if start else p.seed_a}/c{p.class_a} > {p.seed_b}/c{p.class_b}" for p in chosen]
        figures.append({"method": method, **save_figure(ex, f"interpolate_{method}", images, steps + 1, title, rows,
                                                        [f"{v:.2g}" for v in t.tolist()])})
        per_method[method] = {
            "z_norms": z.norm(dim=1).view(len(chosen), steps + 1).tolist(),
            "step_change": [pixel_distance(f[1:], f[:-1]).tolist() for f in frames],  # consecutive frames
        }
    return save_numbers(ex, "interpolate", {
        "steps": steps, "t": t.tolist(), "start": start.describe() if start else {"kind": "seed"},
        "pairs": [vars(p) for p in chosen], "label_code_path": "linear",
        "methods": per_method}, figures)
