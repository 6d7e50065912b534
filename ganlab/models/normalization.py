"""Normalisation layers: spectral norm (parametrization-based, torch.compile-safe) and conditional BatchNorm."""

from __future__ import annotations

import torch
import torch.nn as nn
from torch.nn.utils.parametrizations import spectral_norm

SPECTRAL_LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def apply_spectral_norm(module: nn.Module, embeddings: bool = True) -> nn.Module:
    """Wrap the weight of every conv / linear layer (and embedding, if ``embeddings``) in spectral norm.

    Uses ``torch.nn.utils.parametrizations.spectral_norm`` (one power iteration per training forward,
    the u/v vectors kept as buffers), so the module stays a plain state dict and works under torch.compile.
    """
    kinds = SPECTRAL_LAYERS + ((nn.Embedding,) if embeddings else ())
    for m in list(module.modules()):
        if isinstance(m, kinds) and not _is_spectral(m):
            spectral_norm(m)
    return module


def _is_spectral(m: nn.Module) -> bool:
    return hasattr(m, "parametrizations") and "weight" in m.parametrizations


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm without its own affine, then a per-class scale and shift: gamma[y] * BN(x) + beta[y].

    gamma starts at 1 and beta at 0 for every class (SNGAN / mimicry convention).
    """

    def __init__(self, num_features: int, num_classes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.gamma = nn.Embedding(num_classes, num_features)
        self.beta = nn.Embedding(num_classes, num_features)
        nn.init.ones_(self.gamma.weight)
        nn.init.zeros_(self.beta.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.bn(x)  # (B, C, H, W)
        return self.gamma(y)[:, :, None, None] * h + self.beta(y)[:, :, None, None]


class LabelledNorm(nn.Module):
    """One normalisation slot of a block: identity, BatchNorm, or class-conditional BatchNorm; called with (x, y)."""

    def __init__(self, num_features: int, kind: str, num_classes: int = 0):
        super().__init__()
        self.kind = kind
        if kind == "cbn":
            self.norm: nn.Module = ConditionalBatchNorm2d(num_features, num_classes)
        elif kind == "bn":
            self.norm = nn.BatchNorm2d(num_features)
        elif kind == "none":
            self.norm = nn.Identity()
        else:
            raise ValueError(f"unknown norm kind {kind!r}")

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.norm(x, y) if self.kind == "cbn" else self.norm(x)
