"""Weight initialisation schemes. ``INITS`` maps a ``model.init`` name to a function applied to a whole network."""

from __future__ import annotations

from typing import Callable

import torch.nn as nn

from ganlab.choices import registry

WEIGHTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def dcgan_init(module: nn.Module) -> None:
    """Radford et al.: conv/linear weights ~ N(0, 0.02), norm scales ~ N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, WEIGHTED):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def xavier_init(module: nn.Module) -> None:
    """Glorot & Bengio: conv/linear weights xavier-uniform (gain 1), biases 0."""
    for m in module.modules():
        if isinstance(m, WEIGHTED):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def orthogonal_init(module: nn.Module) -> None:
    """Saxe et al.: conv/linear weights orthogonal (as BigGAN), biases 0."""
    for m in module.modules():
        if isinstance(m, WEIGHTED):
            nn.init.orthogonal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


INITS: dict[str, Callable[[nn.Module], None]] = registry("model.init", {
    "dcgan": dcgan_init,
    "xavier": xavier_init,
    "orthogonal": orthogonal_init,
})
