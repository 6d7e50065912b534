"""What every exploration shares: a loaded generator, rendering from latents and label codes, outputs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import torch
import torch.nn as nn

from ganlab.config import Config
from ganlab.data import to_uint8
from ganlab.data.spec import ImageSpec
from ganlab.devices import resolve_device
from ganlab.errors import GanlabError
from ganlab.folders import RunDir
from ganlab.images import GRID_PAD, save_labelled_grid
from ganlab.io import atomic_write_json
from ganlab.models.export import load_run_generator
from ganlab.models.generation import generate_encoded, latents_for_seeds


@dataclass
class Explorer:
    """A run's generator ready to render images from latents and encoded labels."""

    generator: nn.Module
    cfg: Config
    spec: ImageSpec
    run_dir: Path
    out_dir: Path  # where figures and their JSON go (RUN_DIR/explore by default)
    device: torch.device
    epoch: Optional[int] = None  # the epoch of the generator export explored (None: not recorded)

    @property
    def source(self) -> str:
        """Which generator a figure shows: the run's name and the export's epoch."""
        return self.run_dir.name + (f", epoch {self.epoch}" if self.epoch is not None else "")

    @property
    def z_dim(self) -> int:
        return self.cfg.model.z_dim

    @property
    def conditional(self) -> bool:
        return self.generator.label.dim > 0

    @property
    def num_classes(self) -> int:
        """Classes the generator is conditioned on (1 for an unconditional generator: one 'class')."""
        return self.spec.num_classes if self.conditional else 1

    @property
    def scale(self) -> int:
        """Upscaling of grid cells so that small images stay readable (about 64 px a cell)."""
        return max(1, 64 // self.spec.resolution)

    def check_classes(self, classes: Sequence[int]) -> list[int]:
        """The classes as ints, refused with the valid range when out of it."""
        bad = [c for c in classes if not 0 <= c < self.num_classes]
        if bad:
            known = f"classes 0..{self.num_classes - 1}" if self.conditional else "no classes (unconditional; use 0)"
            raise GanlabError(f"class(es) {bad} out of range: this generator knows {known}")
        return [int(c) for c in classes]

    def latents(self, seeds: Sequence[int]) -> torch.Tensor:
        """(N, z_dim) latents, row i from seeds[i] (the same images as ``ganlab sample --seeds``)."""
        return latents_for_seeds(seeds, self.z_dim, self.device)

    def codes(self, classes: Sequence[int]) -> torch.Tensor:
        """Encoded label vectors (N, label_dim) of integer classes (label_dim 0 when unconditional)."""
        y = torch.as_tensor(list(classes), dtype=torch.long, device=self.device)
        with torch.no_grad():
            return self.generator.label(y).float()

    def class_codes(self) -> torch.Tensor:
        """The code of every class, (num_classes, label_dim): the learnt embedding table or the one-hots."""
        return self.codes(range(self.num_classes))

    def render(self, z: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """uint8 images (N, C, H, W) from latents (N, z_dim) and label codes (N, label_dim)."""
        assert z.shape[1] == self.z_dim and codes.shape[1] == self.generator.label.dim, (z.shape, codes.shape)
        return to_uint8(generate_encoded(self.generator, z.to(self.device), codes.to(self.device))).cpu()


def load_explorer(run_dir: str | Path, epoch: int | None = None, device: str = "auto",
                  out_dir: str | Path | None = None) -> Explorer:
    """An ``Explorer`` on a run's latest generator export (or the one of ``epoch``)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise GanlabError(f"{run_dir} is not a run directory; pass the directory made by 'ganlab train'")
    files, device = RunDir(run_dir), resolve_device(device)
    g, cfg, spec, meta = load_run_generator(files.path, epoch, device)
    if not hasattr(g, "forward_encoded"):
        raise GanlabError(f"the {cfg.model.family} generator has no forward_encoded(z, code), which exploring needs "
                          f"(see ganlab/models/conditioning.py); add it to that family")
    return Explorer(g, cfg, spec, run_dir, Path(out_dir) if out_dir else files.explore, device, meta.get("epoch"))


def grid_layout(images: torch.Tensor, columns: int, scale: int, top: int = 0, left: int = 0) -> dict[str, Any]:
    """How a grid PNG is laid out, so that a reader can cut it back into cells: the grid starts ``top`` and
    ``left`` pixels into the PNG (below the title, right of the row labels), its cells upscaled ``scale`` times."""
    n, c, h, w = images.shape
    return {"rows": max(1, math.ceil(n / columns)), "columns": columns, "count": n, "channels": c,
            "height": h, "width": w, "pad": GRID_PAD, "scale": scale, "top": top, "left": left}


def cell_means(images: torch.Tensor) -> list[float]:
    """Mean uint8 value of each image (0..255), a fingerprint that ties a JSON to its PNG."""
    return [round(float(v), 4) for v in images.float().mean(dim=(1, 2, 3))]


def save_figure(ex: Explorer, name: str, images: torch.Tensor, columns: int, title: str,
                rows: Sequence[str] = (), cols: Sequence[str] = ()) -> dict[str, Any]:
    """Write ``name``.png as a grid that says what it shows (``title``, the run and epoch, a label per row and
    column) and return its description (file, title, layout, per-cell mean values)."""
    path, top, left = save_labelled_grid(ex.out_dir / f"{name}.png", images, columns, ex.scale,
                                         f"{title}\n{ex.source}", rows, cols)
    return {"png": path.name, "title": title, "grid": grid_layout(images, columns, ex.scale, top, left),
            "cell_means": cell_means(images)}


@dataclass
class ExploreResult:
    """What an exploration wrote: its JSON, its PNGs and the numbers in the JSON."""

    json_path: Path
    pngs: list[Path]
    numbers: dict[str, Any]

    def summary(self) -> str:
        """One line for the command line."""
        return f"wrote {len(self.pngs)} figure(s) and {self.json_path}"


def save_numbers(ex: Explorer, name: str, numbers: dict[str, Any], figures: Sequence[dict[str, Any]]) -> ExploreResult:
    """Write the raw numbers of an exploration as ``name``.json (with its figures' descriptions)."""
    record = {"exploration": name, "run_dir": str(ex.run_dir), "z_dim": ex.z_dim,
              "conditioning": ex.cfg.model.conditioning, "num_classes": ex.num_classes, **numbers,
              "figures": list(figures)}
    path = atomic_write_json(ex.out_dir / f"{name}.json", record)
    return ExploreResult(path, [ex.out_dir / f["png"] for f in figures], record)


def pixel_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference in uint8 units between image batches (N, C, H, W) -> (N,)."""
    return (a.float() - b.float()).abs().mean(dim=(1, 2, 3))


def gaussian(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Standard normal noise of ``shape`` from its own seeded CPU generator (reproducible anywhere)."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(int(seed)))
