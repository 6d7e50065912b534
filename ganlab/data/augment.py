"""On-device augmentation of a whole batch at once (no per-image Python work)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ganlab.config import AugmentConfig


def is_active(cfg: AugmentConfig) -> bool:
    """True when any augmentation is switched on."""
    return cfg.rotation_deg > 0 or cfg.crop_padding > 0 or cfg.hflip


def augment(x: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Randomly rotate, shift (crop with zero padding) and flip images in [-1, 1], (B, C, H, W).

    Rotation and shift are one affine resampling; the empty border is black (-1), as
    torchvision's RandomRotation / RandomCrop(padding) fill it.
    """
    b, _, h, w = x.shape
    dev = x.device
    if cfg.rotation_deg > 0 or cfg.crop_padding > 0:
        angle = (torch.rand(b, device=dev, generator=generator) * 2 - 1) * math.radians(cfg.rotation_deg)
        p = cfg.crop_padding
        shift = (torch.randint(-p, p + 1, (b, 2), device=dev, generator=generator).float() if p
                 else torch.zeros(b, 2, device=dev))
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.stack([
            torch.stack([cos, -sin, shift[:, 0] * 2 / w], 1),
            torch.stack([sin, cos, shift[:, 1] * 2 / h], 1),
        ], 1)  # (B, 2, 3), translation in normalised units
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        mode = "bilinear" if cfg.rotation_deg > 0 else "nearest"
        x = F.grid_sample(x + 1, grid, mode=mode, padding_mode="zeros", align_corners=False) - 1
    if cfg.hflip:
        flip = torch.rand(b, device=dev, generator=generator) < 0.5
        x = torch.where(flip.view(b, 1, 1, 1), x.flip(-1), x)
    return x
