"""A picture of the latent space: images laid out over a latent plane (report 000's appendix).

z_dim 1: a strip along the axis; z_dim 2: the plane itself; z_dim 3: the (z1, z2) plane at a few
values of z3; z_dim > 3: the plane spanned by two random orthonormal directions through z = 0
(a 2-d projection; a standard normal z projects onto each direction as N(0, 1)).
"""

from __future__ import annotations

from typing import Sequence

import torch

from ganlab.errors import GanlabError
from ganlab.explore.common import Explorer, ExploreResult, gaussian, save_figure, save_numbers


def plane_directions(z_dim: int, seed: int) -> torch.Tensor:
    """Two orthonormal directions (2, z_dim): the first two axes for z_dim <= 3, else random (QR of a seeded draw)."""
    if z_dim <= 3:
        return torch.eye(z_dim)[:2]
    q, _ = torch.linalg.qr(gaussian((z_dim, 2), seed))  # (z_dim, 2), orthonormal columns
    return q.T.contiguous()


def plane_latents(directions: torch.Tensor, coords: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """Latents on a grid over the plane: row i has the 2nd coordinate coords[-1-i] (top = +),
    column j the 1st coordinate coords[j]: (G*G, z_dim) (G, z_dim for a 1-d strip)."""
    if directions.shape[0] == 1:
        return coords[:, None] * directions[0][None] + offset[None]
    a = coords[None, :].expand(len(coords), -1)  # (G, G) first coordinate per column
    b = coords.flip(0)[:, None].expand(-1, len(coords))  # (G, G) second coordinate per row
    return a.reshape(-1, 1) * directions[0][None] + b.reshape(-1, 1) * directions[1][None] + offset[None]


def latent_map(ex: Explorer, grid: int = 11, radius: float = 3.0, classes: Sequence[int] | None = None,
               slices: Sequence[float] = (-2.0, 0.0, 2.0), seed: int = 0) -> ExploreResult:
    """A ``grid`` x ``grid`` map over [-radius, radius]^2 per class (per z3 slice when z_dim = 3), and
    latent_map.json with the axes, the directions and how each figure was made."""
    if ex.z_dim == 0:
        raise GanlabError("this run has z_dim 0: there is no latent space to map (the label alone drives it)")
    if grid < 2 or radius <= 0:
        raise GanlabError(f"--grid must be >= 2 and --radius > 0 (got {grid}, {radius})")
    classes = ex.check_classes(classes if classes is not None else range(ex.num_classes))
    directions = plane_directions(ex.z_dim, seed)  # (min(2, z_dim), z_dim)
    coords = torch.linspace(-radius, radius, grid)
    offsets = [(None, torch.zeros(ex.z_dim))]
    if ex.z_dim == 3:
        offsets = [(float(s), torch.tensor([0.0, 0.0, float(s)])) for s in slices]
    figures = []
    for c in classes:
        for z3, offset in offsets:
            z = plane_latents(directions, coords, offset)
            images = ex.render(z, ex.codes([c] * len(z)).cpu())
            name = f"latent_map_class_{c}" + (f"_z3_{z3:g}" if z3 is not None else "")
            plane = "the (z1, z2) plane" if ex.z_dim <= 3 else "a plane of two random directions"
            title = (f"Class {c}: images over {plane}" + (f" at z3 = {z3:g}" if z3 is not None else "")
                     + f"\ncolumns: first coordinate, rows: second coordinate (top = +{radius:g})")
            axis = [f"{v:.2g}" for v in coords.tolist()]
            rows = axis[::-1] if directions.shape[0] > 1 else []
            figures.append({"class": c, "z3": z3, **save_figure(ex, name, images, grid, title, rows, axis)})
    kind = "exact" if ex.z_dim <= 3 else "projection"
    return save_numbers(ex, "latent_map", {
        "kind": kind, "grid": grid, "radius": radius, "coords": coords.tolist(), "seed": seed,
        "directions": directions.tolist(), "slices_z3": [s for s, _ in offsets] if ex.z_dim == 3 else [],
        "layout": "column j = first coordinate coords[j]; row i = second coordinate coords[-1-i]"}, figures)
