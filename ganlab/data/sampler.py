"""Training batches drawn by indexing a device-resident uint8 tensor: no DataLoader, no PIL."""

from __future__ import annotations

import torch

from ganlab.config import AugmentConfig
from ganlab.data.augment import augment, is_active
from ganlab.data.sources import ImageSet
from ganlab.errors import GanlabError


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255] (rounded, clamped)."""
    return ((x.float() + 1.0) * 127.5).round_().clamp_(0, 255).to(torch.uint8)


class BatchSampler:
    """Batch b of a run is a pure function of (seed, b): epoch e = b // batches_per_epoch uses
    the permutation seeded by (seed, e). Resuming at any batch index reproduces the data order.

    With ``world_size`` processes, global batch b is the permutation's slice of world_size * batch_size
    images, and process ``rank`` takes its rank-th part (one process: the whole slice)."""

    def __init__(self, data: ImageSet, batch_size: int, augment_cfg: AugmentConfig, device: torch.device, seed: int,
                 rank: int = 0, world_size: int = 1):
        if batch_size * world_size > len(data):
            procs = f" x {world_size} processes" if world_size > 1 else ""
            raise GanlabError(f"train.batch_size={batch_size}{procs} is larger than the {len(data)} training images; "
                              f"lower train.batch_size or raise data.limit")
        self.images = data.images.to(device)  # uint8 (N, C, H, W), resident on the training device
        self.labels = data.labels.to(device)
        self.batch_size = batch_size
        self.augment_cfg = augment_cfg
        self.seed = seed
        self.rank, self.world_size = rank, world_size
        self.batches_per_epoch = len(data) // (batch_size * world_size)
        self._epoch = -1
        self._perm: torch.Tensor | None = None

    def _permutation(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = torch.randperm(self.images.shape[0], generator=g).to(self.images.device)
            self._epoch = epoch
        assert self._perm is not None
        return self._perm

    def indices(self, index: int) -> torch.Tensor:
        """Positions (B,) in the training images of this process's part of batch number ``index``."""
        epoch, pos = divmod(index, self.batches_per_epoch)
        start = (pos * self.world_size + self.rank) * self.batch_size
        return self._permutation(epoch)[start:start + self.batch_size]

    def batch(self, index: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch number ``index``: images in [-1, 1] (B, C, H, W), augmented with ``generator``, and labels (B,)."""
        idx = self.indices(index)
        x = to_unit_range(self.images[idx])
        if is_active(self.augment_cfg):
            x = augment(x, self.augment_cfg, generator)
        return x, self.labels[idx]
