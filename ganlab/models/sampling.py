"""Seeded sampling: image i comes from its own seed, so a seed always names the same image."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn


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

    def save(self, png: str | Path | None, npz: str | Path | None = None, columns: int | None = None) -> None:
        """Write a PNG grid (one label block per row when possible) and/or an .npz of the raw arrays."""
        from ganlab.images import save_grid
        from ganlab.io import atomic_write

        n = len(self.seeds)
        if png:
            blocks = len(torch.unique_consecutive(self.labels))
            cols = columns or (n // blocks if n % blocks == 0 else math.ceil(math.sqrt(n)))
            save_grid(png, self.images, cols, scale=max(1, 64 // self.images.shape[-1]))
        if npz:
            arrays = {"images": self.images.numpy(), "labels": self.labels.numpy(), "seeds": np.array(self.seeds)}
            atomic_write(npz, lambda p: np.savez(p.open("wb"), **arrays))
