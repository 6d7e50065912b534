"""How a label enters a network: nothing, a one-hot vector, or a learnt embedding."""

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
