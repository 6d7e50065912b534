"""The WGAN-GP gradient penalty (Gulrajani et al. 2017): it needs D itself, so it is not a loss of logits."""

from __future__ import annotations

import torch
import torch.nn as nn


def gradient_penalty(d: nn.Module, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor,
                     e: torch.Tensor) -> torch.Tensor:
    """mean over the batch of (||grad_x D(x_hat, y)||_2 - 1)^2, x_hat = e*real + (1-e)*fake, with the mixing
    weights e ~ U(0, 1), (B, 1, 1, 1), drawn by the caller (so the run's generator draws them).

    The graph is kept (create_graph) so the penalty trains D.
    """
    x_hat = (e * real.detach() + (1 - e) * fake.detach()).requires_grad_(True)  # (B, C, H, W)
    logits = d(x_hat, labels)  # (B,)
    (grad,) = torch.autograd.grad(logits.sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(2, dim=1) - 1.0).pow(2).mean()
