"""Seeded sampling: image i comes from its own seed, so a seed always names the same image."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn

from ganlab.errors import GanlabError
from ganlab.images import save_grid
from ganlab.io import atomic_write


def latents_for_seeds(seeds: Sequence[int], z_dim: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """(N, z_dim) standard normal latents, row i drawn from a generator seeded with seeds[i] (on the CPU)."""
    rows = [torch.randn(z_dim, generator=torch.Generator().manual_seed(int(s))) for s in seeds]
    z = torch.stack(rows) if rows else torch.zeros(0, z_dim)
    return z.to(device)


@torch.no_grad()
def generate(generator: nn.Module, z: torch.Tensor, labels: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Images in [-1, 1], (N, C, H, W), from latents (N, z_dim) and labels (N,), in batches, eval mode."""
    return _batched(generator, generator, z, labels, batch_size)


@torch.no_grad()
def generate_encoded(generator: nn.Module, z: torch.Tensor, codes: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Images in [-1, 1], (N, C, H, W), from latents (N, z_dim) and encoded labels (N, generator.label.dim)."""
    return _batched(generator, generator.forward_encoded, z, codes, batch_size)


def _batched(generator: nn.Module, fn, z: torch.Tensor, second: torch.Tensor, batch_size: int) -> torch.Tensor:
    was_training = generator.training
    generator.eval()
    out = [fn(z[i:i + batch_size], second[i:i + batch_size]) for i in range(0, z.shape[0], batch_size)]
    generator.train(was_training)
    return torch.cat(out) if out else z.new_zeros((0,))


def seeded_labels(n: int, labels: Sequence[int]) -> torch.Tensor:
    """Labels for n samples in equal consecutive blocks (so a grid has one label per row block)."""
    labels = list(labels) or [0]
    return torch.tensor([labels[i * len(labels) // n] for i in range(n)], dtype=torch.long)


@dataclass
class Samples:
    """Generated images with the labels and seeds that made them."""

    images: torch.Tensor  # uint8 (N, C, H, W)
    labels: torch.Tensor  # (N,)
    seeds: list[int]

    def save(self, png: str | Path | None, npz: str | Path | None = None, columns: int | None = None) -> str:
        """Write a PNG grid (``grid_columns`` wide: a label block per row when it fits) and/or an .npz of the raw
        arrays; return one line saying what was written. More than ``GRID_MAX_IMAGES`` samples make no PNG: only
        the .npz (the line says so), or a GanlabError naming the fix when no .npz was asked for."""
        n = len(self.seeds)
        grid_skipped = bool(png) and n > GRID_MAX_IMAGES
        if grid_skipped and not npz:
            raise GanlabError(grid_too_large(n))
        written = []
        if png and not grid_skipped:
            cols = grid_columns(n, len(torch.unique_consecutive(self.labels)), columns)
            save_grid(png, self.images, cols, scale=max(1, 64 // self.images.shape[-1]))
            written.append(str(png))
        if npz:
            arrays = {"images": self.images.numpy(), "labels": self.labels.numpy(), "seeds": np.array(self.seeds)}
            atomic_write(npz, lambda p: np.savez(p.open("wb"), **arrays))
            written.append(str(npz))
        line = f"wrote {n} samples to {' and '.join(written) or 'nothing'}"
        if grid_skipped:
            line += f" (no PNG grid {png}: {n} images are more than the {GRID_MAX_IMAGES} one grid holds)"
        return line


GRID_MAX_COLUMNS = 32  # the widest a sample grid is drawn unless columns are given
GRID_MAX_IMAGES = 1024  # the most samples drawn into one PNG grid; more are written as arrays (.npz) only


def grid_columns(n: int, blocks: int = 1, columns: int | None = None) -> int:
    """Columns of a grid of ``n`` samples in ``blocks`` equal label blocks: ``columns`` when given, else a block
    per row when the blocks are equal, else about a square, at most ``GRID_MAX_COLUMNS`` wide (wrapped into rows)."""
    if columns is not None:
        if columns < 1:
            raise GanlabError(f"--columns must be at least 1, got {columns}")
        return columns
    blocks = max(1, blocks)
    cols = n // blocks if n % blocks == 0 else math.ceil(math.sqrt(n))
    return max(1, min(cols, GRID_MAX_COLUMNS))


def grid_too_large(n: int) -> str:
    """The one-line refusal of a PNG grid of ``n`` samples (more than ``GRID_MAX_IMAGES``), naming the fix."""
    return (f"{n} samples are too many for one PNG grid (at most {GRID_MAX_IMAGES}); add --npz FILE to write them "
            f"as arrays (the PNG is then skipped), or lower --n")
