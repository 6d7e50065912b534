"""Normalisation layers: spectral norm (parametrization-based, torch.compile-safe) and conditional BatchNorm."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

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


@contextmanager
def as_in_training(module: nn.Module) -> Iterator[nn.Module]:
    """The module run as training runs it (BatchNorm on each batch's own statistics, spectral norm's power step),
    with its buffers and mode put back afterwards, so that judging it changes nothing. A discriminator is never
    run in eval mode while training: with BatchNorm, the running statistics mix real and fake batches and match
    neither, so D in eval mode calls real images fake."""
    was_training = module.training
    saved = [(b, b.clone()) for b in module.buffers()]
    module.train()
    try:
        yield module
    finally:
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)
        module.train(was_training)


def _is_spectral(m: nn.Module) -> bool:
    return hasattr(m, "parametrizations") and "weight" in m.parametrizations


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm without its own affine, then a scale and shift computed from the label code:
    (1 + W_gamma code) * BN(x) + W_beta code.

    With one-hot codes this is SNGAN's per-class gamma/beta tables; with embeddings, BigGAN's linear
    conditional BN. Both maps start at zero, so every class starts at gamma 1, beta 0. Taking the code
    (not the integer label) lets codes between or outside the classes be explored.
    """

    def __init__(self, num_features: int, code_dim: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        # plain parameters (not nn.Linear), so model.init and spectral norm leave them alone
        self.gamma = nn.Parameter(torch.zeros(code_dim, num_features))  # code -> gain offset
        self.beta = nn.Parameter(torch.zeros(code_dim, num_features))  # code -> bias

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        h = self.bn(x)  # (B, C, H, W)
        gain, bias = 1 + code @ self.gamma, code @ self.beta  # (B, C) each
        return gain[:, :, None, None] * h + bias[:, :, None, None]


class LabelledNorm(nn.Module):
    """One normalisation slot of a block: identity, BatchNorm, or conditional BatchNorm; called with (x, code)."""

    def __init__(self, num_features: int, kind: str, code_dim: int):
        """``kind``: 'cbn' (driven by a label code of ``code_dim``), 'bn' or 'none'."""
        super().__init__()
        self.kind = kind
        if kind == "cbn":
            self.norm: nn.Module = ConditionalBatchNorm2d(num_features, code_dim)
        else:
            self.norm = nn.BatchNorm2d(num_features) if kind == "bn" else nn.Identity()

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        return self.norm(x, code) if self.kind == "cbn" else self.norm(x)
