"""Fake labels: label codes that are no class's code, inside the learnt range and far outside it.

Report 002 §2.3: print the class embeddings to see their range, then feed codes drawn inside that
range (often an in-between of classes) and codes far from it (unrecognisable).
"""

from __future__ import annotations

import torch

from ganlab.errors import GanlabError
from ganlab.explore.common import Explorer, ExploreResult, save_figure, save_numbers


def code_range(codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension (min, max) of the class codes (num_classes, dim)."""
    return codes.min(dim=0).values, codes.max(dim=0).values


def range_text(codes: torch.Tensor) -> str:
    """The class codes and their range as printable lines."""
    low, high = code_range(codes)
    fmt = lambda v: "[" + ", ".join(f"{x:+.3f}" for x in v.tolist()) + "]"  # noqa: E731
    lines = [f"class {c}: {fmt(v)}" for c, v in enumerate(codes)]
    lines += [f"range per dimension: min {fmt(low)}", f"                     max {fmt(high)}",
              f"overall range: [{float(low.min()):+.3f}, {float(high.max()):+.3f}]"]
    return "\n".join(lines)


def fake_codes(codes: torch.Tensor, inside: int, outside: int, far: float,
               seed: int) -> tuple[torch.Tensor, list[bool]]:
    """``inside`` codes uniform within the per-dimension range, then ``outside`` codes ``far`` range
    widths beyond it on every dimension (on a random side each): (inside + outside, dim), flags."""
    low, high = code_range(codes)
    span = (high - low).clamp_min(1e-3)
    g = torch.Generator().manual_seed(seed)
    inner = low + torch.rand(inside, codes.shape[1], generator=g) * (high - low)
    side = torch.rand(outside, codes.shape[1], generator=g) < 0.5
    outer = torch.where(side, high + far * span, low - far * span)
    return torch.cat([inner, outer]), [True] * inside + [False] * outside


def fake_labels(ex: Explorer, inside: int = 3, outside: int = 2, far: float = 5.0, per_code: int = 8,
                seed: int = 0) -> ExploreResult:
    """One grid (rows = fake codes, inside ones first; ``per_code`` samples a row) and fake_labels.json
    with the class codes, their range, each fake code and its nearest class."""
    if not ex.conditional:
        raise GanlabError("fake labels need a conditional generator; this run has model.conditioning=none")
    if inside < 0 or outside < 0 or inside + outside == 0:
        raise GanlabError(f"give --inside and --outside counts >= 0, not both 0 (got {inside}, {outside})")
    if far <= 0 or per_code < 1:
        raise GanlabError(f"--far must be > 0 and --per-code >= 1 (got {far}, {per_code})")
    codes = ex.class_codes().cpu()  # (num_classes, dim)
    fakes, flags = fake_codes(codes, inside, outside, far, seed)
    n = fakes.shape[0]
    z = ex.latents([seed + j for j in range(per_code)] * n).cpu()  # (n*per_code, z_dim): same seeds each row
    images = ex.render(z, fakes.repeat_interleave(per_code, dim=0))  # (n*per_code, C, H, W)
    figure = save_figure(ex, "fake_labels", images, per_code,
                         f"Fake label codes: {inside} inside the learnt range, then {outside} at {far:g} range widths "
                         f"outside it; a row per code",
                         [f"{'inside' if flag else 'outside'} {i + 1}" for i, flag in enumerate(flags)],
                         [f"seed {seed + j}" for j in range(per_code)])
    distances = torch.cdist(fakes, codes)  # (n, num_classes)
    low, high = code_range(codes)
    return save_numbers(ex, "fake_labels", {
        "class_codes": codes.tolist(), "range_min": low.tolist(), "range_max": high.tolist(),
        "range_text": range_text(codes), "far": far, "seed": seed, "per_code": per_code,
        "fakes": [{"code": f.tolist(), "inside": flag, "nearest_class": int(d.argmin()),
                   "nearest_distance": float(d.min())} for f, flag, d in zip(fakes, flags, distances)],
    }, [figure])
