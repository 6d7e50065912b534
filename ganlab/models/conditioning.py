"""How a label enters a network: nothing, a one-hot vector, or a learnt embedding.

The generator interface every family follows (the explore tools and ``ganlab serve`` rely on it):

- ``generator.label`` is a ``LabelEncoder`` and ``generator.z_dim`` the latent size;
- ``generator.forward_encoded(z, code)`` maps latents (B, z_dim) and *encoded* label vectors
  (B, generator.label.dim) to images (B, C, H, W) in [-1, 1];
- ``generator(z, y) == generator.forward_encoded(z, generator.label(y))`` for integer labels y (B,).

So a code between two classes' codes, or outside every class's code, is a valid input: that is how
labels are interpolated, noised and faked. A family that conditions elsewhere than at the input
(e.g. conditional BatchNorm, whose gains and biases are computed from the code) passes ``code`` on
to those layers instead of the integer label.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ganlab.errors import GanlabError


class LabelEncoder(nn.Module):
    """Maps labels (B,) to a vector (B, dim): dim 0 for 'none', num_classes for 'onehot', embed_dim for 'embedding'."""

    def __init__(self, kind: str, num_classes: int, embed_dim: int):
        super().__init__()
        if kind != "none" and num_classes < 1:
            raise GanlabError(f"model.conditioning={kind} needs labelled data, but this data set has no classes; "
                              f"set model.conditioning=none")
        self.kind = kind
        self.num_classes = num_classes
        self.embedding = nn.Embedding(num_classes, embed_dim) if kind == "embedding" else None
        self.dim = {"none": 0, "onehot": num_classes, "embedding": embed_dim}[kind]

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if self.kind == "onehot":
            return F.one_hot(y, self.num_classes).float()
        if self.embedding is not None:
            return self.embedding(y)
        return y.new_zeros((y.shape[0], 0), dtype=torch.float32)
