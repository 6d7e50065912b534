"""The WGAN-GP gradient penalty (Gulrajani et al. 2017): it needs D itself, so it is not a loss of logits."""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn


def gradient_penalty(d: nn.Module, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor,
                     generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """mean over the batch of (||grad_x D(x_hat, y)||_2 - 1)^2, x_hat = e*real + (1-e)*fake, e ~ U(0, 1) per image.

    The graph is kept (create_graph) so the penalty trains D; ``generator`` draws e (reproducible resume).
    """
    e = torch.rand(real.shape[0], 1, 1, 1, device=real.device, generator=generator, dtype=real.dtype)
    x_hat = (e * real.detach() + (1 - e) * fake.detach()).requires_grad_(True)  # (B, C, H, W)
    logits = d(x_hat, labels)  # (B,)
    (grad,) = torch.autograd.grad(logits.sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(2, dim=1) - 1.0).pow(2).mean()
