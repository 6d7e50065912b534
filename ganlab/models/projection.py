"""The discriminator's output head: a linear logit, plus Miyato & Koyama's projection term when conditional."""

from __future__ import annotations

import torch
import torch.nn as nn


class ProjectionHead(nn.Module):
    """logit = linear(phi) + <embed(y), phi>  (the projection term only when ``num_classes`` > 0).

    phi (B, F) are the discriminator's pooled features; the embedding has one F-vector per class.
    """

    def __init__(self, features: int, num_classes: int):
        super().__init__()
        self.linear = nn.Linear(features, 1)
        self.embed = nn.Embedding(num_classes, features) if num_classes > 0 else None
        nn.init.xavier_uniform_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        if self.embed is not None:
            nn.init.xavier_uniform_(self.embed.weight)

    def projection(self, phi: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """<embed(y), phi>, (B,); zeros when unconditional."""
        if self.embed is None:
            return phi.new_zeros(phi.shape[0])
        return (self.embed(y) * phi).sum(1)

    def forward(self, phi: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.linear(phi).squeeze(1) + self.projection(phi, y)  # (B,) logits
