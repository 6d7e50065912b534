"""A small fully-connected pair for tiny data and 2-3-d latent studies."""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from ganlab.models.conditioning import LabelEncoder


class MLPGenerator(nn.Module):
    """[z, cond(y)] -> hidden -> hidden -> C*H*W, tanh."""

    def __init__(self, z_dim: int, channels: int, resolution: int, hidden: int,
                 conditioning: str, num_classes: int, embed_dim: int):
        super().__init__()
        self.z_dim = z_dim
        self.label = LabelEncoder(conditioning, num_classes, embed_dim)
        self.out_shape = (channels, resolution, resolution)
        self.net = nn.Sequential(
            nn.Linear(z_dim + self.label.dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, math.prod(self.out_shape)), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.forward_encoded(z, self.label(y))

    def forward_encoded(self, z: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """Images from latents (B, z_dim) and encoded label vectors (B, label.dim), see ``LabelEncoder``."""
        h = torch.cat([z, code], 1)  # (B, z_dim + cond)
        return self.net(h).view(-1, *self.out_shape)  # (B, C, H, W)


class MLPDiscriminator(nn.Module):
    """[flattened x, cond(y)] -> hidden -> hidden -> logit, LeakyReLU 0.2."""

    def __init__(self, channels: int, resolution: int, hidden: int,
                 conditioning: str, num_classes: int, embed_dim: int):
        super().__init__()
        self.label = LabelEncoder(conditioning, num_classes, embed_dim)
        self.in_shape = (channels, resolution, resolution)
        self.net = nn.Sequential(
            nn.Linear(math.prod(self.in_shape) + self.label.dim, hidden), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        assert x.shape[1:] == self.in_shape, f"expected images {self.in_shape}, got {tuple(x.shape[1:])}"
        return self.net(torch.cat([x.flatten(1), self.label(y)], 1)).squeeze(1)  # (B,) logits
