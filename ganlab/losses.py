"""GAN losses as pure functions of discriminator logits. ``LOSSES`` maps a name to (d_loss, g_loss)."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ganlab.choices import registry


def d_bce(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(x) - log(1 - D(G(z))), with D = sigmoid(logit)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_bce_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(G(z)): the generator loss of Goodfellow et al.'s practical advice."""
    return F.softplus(-fake_logits).mean()


def g_bce_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """log(1 - D(G(z))): the generator side of the original minimax game."""
    return -F.softplus(fake_logits).mean()


def d_hinge(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """max(0, 1 - D(x)) + max(0, 1 + D(G(z)))."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def g_hinge(fake_logits: torch.Tensor) -> torch.Tensor:
    """-D(G(z))."""
    return -fake_logits.mean()


def d_least_squares(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Mao et al. (LSGAN, a=0, b=c=1): 0.5 (D(x) - 1)^2 + 0.5 D(G(z))^2."""
    return 0.5 * (real_logits - 1.0).pow(2).mean() + 0.5 * fake_logits.pow(2).mean()


def g_least_squares(fake_logits: torch.Tensor) -> torch.Tensor:
    """0.5 (D(G(z)) - 1)^2."""
    return 0.5 * (fake_logits - 1.0).pow(2).mean()


def d_wasserstein(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Critic loss of WGAN: D(G(z)) - D(x) (the gradient penalty is added by the loop, it needs D)."""
    return fake_logits.mean() - real_logits.mean()


def g_wasserstein(fake_logits: torch.Tensor) -> torch.Tensor:
    """-D(G(z))."""
    return -fake_logits.mean()


def l1_reconstruction(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between real images and fakes made for the same labels."""
    return (real - fake).abs().mean()


DLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
GLoss = Callable[[torch.Tensor], torch.Tensor]

LOSSES: dict[str, tuple[DLoss, GLoss]] = registry("train.loss", {
    "bce": (d_bce, g_bce_nonsaturating),
    "bce-minimax": (d_bce, g_bce_minimax),
    "hinge": (d_hinge, g_hinge),
    "lsgan": (d_least_squares, g_least_squares),
    "wgan-gp": (d_wasserstein, g_wasserstein),
})
