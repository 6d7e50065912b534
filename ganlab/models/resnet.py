"""The ResNet family (Gulrajani et al. 2017 / SNGAN, Miyato et al. 2018): residual G and D blocks.

Every block has the same width (the SNGAN 32x32 models). The generator's label enters by its code joined
to z (``label_mode='input'``) or by class-conditional BatchNorm (``'cbn'``); the discriminator's by label
planes joined at a chosen block (``'concat'``, report 002 joins them in the middle) or by a projection head
(``'projection'``, Miyato & Koyama 2018).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ganlab.errors import GanlabError
from ganlab.models.conditioning import LabelEncoder
from ganlab.models.layout import conv_layout
from ganlab.models.normalization import LabelledNorm
from ganlab.models.projection import ProjectionHead


def _xavier(layer: nn.Module, gain: float = 1.0) -> nn.Module:
    """SNGAN init: xavier-uniform weights (gain sqrt(2) inside residual branches, 1 elsewhere), zero bias."""
    nn.init.xavier_uniform_(layer.weight, gain)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


class Upsample2x(nn.Module):
    """2x upsampling with a learnt conv: 'resize' = nearest 2x then 3x3 conv (Odena et al.); 'transposed' = 4x4/2
    ConvT."""

    def __init__(self, in_channels: int, out_channels: int, mode: str):
        super().__init__()
        self.mode = mode
        if mode == "resize":
            self.conv: nn.Module = _xavier(nn.Conv2d(in_channels, out_channels, 3, 1, 1), math.sqrt(2))
        else:  # transposed (the config checked the choice)
            self.conv = _xavier(nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1), math.sqrt(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "resize":
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv(x)  # (B, out, 2H, 2W)


class GBlock(nn.Module):
    """norm-ReLU-up-conv3x3-norm-ReLU-conv3x3, plus shortcut nearest-up + conv1x1. (B, in, H, W) -> (B, out, 2H, 2W).

    With ``norm='cbn'`` both norms are conditional BatchNorms driven by the label code (B, code_dim)."""

    def __init__(self, in_channels: int, out_channels: int, norm: str, code_dim: int, upsample: str):
        super().__init__()
        self.norm1 = LabelledNorm(in_channels, norm, code_dim)
        self.up_conv = Upsample2x(in_channels, out_channels, upsample)
        self.norm2 = LabelledNorm(out_channels, norm, code_dim)
        self.conv2 = _xavier(nn.Conv2d(out_channels, out_channels, 3, 1, 1), math.sqrt(2))
        self.shortcut = _xavier(nn.Conv2d(in_channels, out_channels, 1))

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        h = self.up_conv(F.relu(self.norm1(x, code)))
        h = self.conv2(F.relu(self.norm2(h, code)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))


class DBlock(nn.Module):
    """Pre-activation residual block: [(BN)-ReLU-conv3x3] x 2, optional 2x2 avg-pool; shortcut conv1x1 (+pool).

    ``first=True`` is SNGAN's optimised first block: conv3x3-(BN)-ReLU-conv3x3-pool, shortcut pool-conv1x1
    (no activation on the raw image). (B, in, H, W) -> (B, out, H/2, W/2) when downsampling.
    """

    def __init__(self, in_channels: int, out_channels: int, batchnorm: bool, downsample: bool, first: bool = False):
        super().__init__()
        self.first, self.downsample = first, downsample
        self.norm1 = nn.Identity() if first or not batchnorm else nn.BatchNorm2d(in_channels)
        self.conv1 = _xavier(nn.Conv2d(in_channels, out_channels, 3, 1, 1), math.sqrt(2))
        self.norm2 = nn.BatchNorm2d(out_channels) if batchnorm else nn.Identity()
        self.conv2 = _xavier(nn.Conv2d(out_channels, out_channels, 3, 1, 1), math.sqrt(2))
        learnt = first or downsample or in_channels != out_channels
        self.shortcut = _xavier(nn.Conv2d(in_channels, out_channels, 1)) if learnt else nn.Identity()

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 2) if self.downsample else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.first else F.relu(self.norm1(x))
        h = self.conv2(F.relu(self.norm2(self.conv1(h))))
        short = self.shortcut(self._pool(x)) if self.first else self._pool(self.shortcut(x))
        return self._pool(h) + short


class ResNetGenerator(nn.Module):
    """[z, (label code)] -> linear (width, s, s) -> k x GBlock -> BN-ReLU-conv3x3 -> tanh image.

    The label code (``self.label``: one-hot or embedding) is joined to z (``label_mode='input'``) or drives
    the conditional BatchNorms of the blocks (``'cbn'``); ``forward_encoded`` takes codes directly (see
    ``ganlab.models.conditioning``)."""

    def __init__(self, z_dim: int, channels: int, resolution: int, width: int, conditioning: str,
                 num_classes: int, embed_dim: int, label_mode: str, batchnorm: bool, upsample: str):
        super().__init__()
        self.z_dim = z_dim
        self.label = LabelEncoder(conditioning, num_classes, embed_dim)
        self.cbn = label_mode == "cbn" and self.label.dim > 0
        if self.cbn and not batchnorm:
            raise GanlabError("model.g_cond=cbn needs BatchNorm in G: set model.g_batchnorm=true")
        input_dim = z_dim + (0 if self.cbn else self.label.dim)
        if input_dim == 0:
            raise GanlabError("the generator has no input: model.z_dim=0 needs model.g_cond=input with a label")
        side, n_up = conv_layout(resolution)
        self.start_shape = (width, side, side)
        norm = "cbn" if self.cbn else ("bn" if batchnorm else "none")
        self.dense = _xavier(nn.Linear(input_dim, width * side * side))
        self.blocks = nn.ModuleList(GBlock(width, width, norm, self.label.dim, upsample) for _ in range(n_up))
        self.out_norm = nn.BatchNorm2d(width) if batchnorm else nn.Identity()
        self.out_conv = _xavier(nn.Conv2d(width, channels, 3, 1, 1))
        self.out_shape = (channels, resolution, resolution)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.forward_encoded(z, self.label(y))

    def forward_encoded(self, z: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """Images from latents (B, z_dim) and encoded label vectors (B, label.dim)."""
        h = z if self.cbn else torch.cat([z, code], 1)  # (B, z_dim [+ label.dim])
        h = self.dense(h).view(-1, *self.start_shape)  # (B, width, s, s)
        for block in self.blocks:
            h = block(h, code)  # (B, width, 2s, 2s)
        return torch.tanh(self.out_conv(F.relu(self.out_norm(h))))  # (B, C, H, W) in [-1, 1]


def down_blocks(resolution: int, min_side: int) -> int:
    """How many 2x downsampling blocks D has: halve while even and the result stays >= ``min_side`` (at least 1)."""
    side, n = resolution, 0
    while side % 2 == 0 and side // 2 >= min_side:
        side, n = side // 2, n + 1
    return max(1, n)


class ResNetDiscriminator(nn.Module):
    """Optimised first block, downsampling blocks down to ``min_side`` (SNGAN's CIFAR D: 32 -> 8), ``extra_blocks``
    more, ReLU, global sum pool, then a linear logit (+ projection term). With ``label_mode='concat'`` the label
    planes join the input of block ``label_depth`` (0 = the image itself)."""

    def __init__(self, channels: int, resolution: int, width: int, batchnorm: bool, conditioning: str,
                 num_classes: int, embed_dim: int, label_mode: str, label_depth: int, extra_blocks: int,
                 min_side: int):
        super().__init__()
        conditional = conditioning != "none"
        concat = label_mode == "concat" and conditional
        self.label = LabelEncoder(conditioning if concat else "none", num_classes, embed_dim)
        n_down = down_blocks(resolution, min_side)
        n_blocks = n_down + extra_blocks
        if concat and not 0 <= label_depth < n_blocks:
            raise GanlabError(f"model.d_label_depth={label_depth} is outside this D's blocks 0..{n_blocks - 1} "
                              f"(the middle is {n_blocks // 2})")
        self.label_depth = label_depth if concat else -1
        blocks = []
        for i in range(n_blocks):
            c_in = (channels if i == 0 else width) + (self.label.dim if i == self.label_depth else 0)
            blocks.append(DBlock(c_in, width, batchnorm, downsample=i < n_down, first=i == 0))
        self.blocks = nn.ModuleList(blocks)
        self.head = ProjectionHead(width, num_classes if label_mode == "projection" and conditional else 0)
        self.in_shape = (channels, resolution, resolution)

    def features(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """phi(x, y): the pooled features (B, width) fed to the head."""
        assert x.shape[1:] == self.in_shape, f"expected images {self.in_shape}, got {tuple(x.shape[1:])}"
        h = x
        for i, block in enumerate(self.blocks):
            if i == self.label_depth:
                code = self.label(y)  # (B, k)
                h = torch.cat([h, code[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])], 1)
            h = block(h)
        return F.relu(h).sum(dim=(2, 3))  # (B, width)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x, y), y)  # (B,) logits
