"""The DCGAN family of the reports: transposed-conv generator, strided-conv discriminator."""

from __future__ import annotations

import torch
import torch.nn as nn

from ganlab.models.conditioning import LabelEncoder
from ganlab.models.layout import conv_layout
from ganlab.models.projection import ProjectionHead


def doubling_padding(kernel: int) -> tuple[int, int]:
    """(padding, output_padding) with which a stride-2 conv of this kernel side halves an even side exactly and
    its transposed conv doubles one (4 -> (1, 0), 3 -> (1, 1))."""
    return (kernel - 1) // 2, kernel % 2


def g_activation(name: str) -> nn.Module:
    """G's activation: relu, or leakyrelu with D's slope 0.2 (the names are config.CHOICES['model.g_activation'])."""
    return nn.LeakyReLU(0.2, inplace=True) if name == "leakyrelu" else nn.ReLU(inplace=True)


def same_size_blocks(channels: int, count: int, batchnorm: bool, activation: nn.Module) -> list[nn.Module]:
    """``count`` x [Conv 3x3 stride 1 + (BN) + act] keeping ``channels`` and the side: the extra hidden layers of
    ``model.extra_layers`` (the DCGAN code's "n_extra_layers")."""
    layers: list[nn.Module] = []
    for _ in range(count):
        layers.append(nn.Conv2d(channels, channels, 3, 1, 1, bias=not batchnorm))
        layers += [nn.BatchNorm2d(channels)] if batchnorm else []
        layers.append(activation)
    return layers


class DCGANGenerator(nn.Module):
    """[z, cond(y)] -> dense (width*2^(k-1), s, s) -> k x [ConvT kxk/2 + BN + act] -> tanh image.

    The last block outputs the image channels without BatchNorm; ``extra_layers`` same-size 3x3 blocks come just
    before it. Kernel 4 and ReLU by default.
    """

    def __init__(self, z_dim: int, channels: int, resolution: int, width: int,
                 conditioning: str, num_classes: int, embed_dim: int, kernel_size: int, activation: str,
                 extra_layers: int = 0):
        super().__init__()
        self.z_dim = z_dim
        self.label = LabelEncoder(conditioning, num_classes, embed_dim)
        side, blocks = conv_layout(resolution)
        c0 = width * 2 ** (blocks - 1)
        self.start_shape = (c0, side, side)
        self.dense = nn.Sequential(
            nn.Linear(z_dim + self.label.dim, c0 * side * side, bias=False),
            nn.BatchNorm1d(c0 * side * side),
            g_activation(activation),
        )
        padding, output_padding = doubling_padding(kernel_size)
        layers: list[nn.Module] = []
        c = c0
        for i in range(blocks):
            last = i == blocks - 1
            c_out = channels if last else c // 2
            if last:
                layers += same_size_blocks(c, extra_layers, True, g_activation(activation))
            layers.append(nn.ConvTranspose2d(c, c_out, kernel_size, 2, padding, output_padding, bias=last))
            layers += [nn.Tanh()] if last else [nn.BatchNorm2d(c_out), g_activation(activation)]
            c = c_out
        self.blocks = nn.Sequential(*layers)
        self.out_shape = (channels, resolution, resolution)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.forward_encoded(z, self.label(y))

    def forward_encoded(self, z: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """Images from latents (B, z_dim) and encoded label vectors (B, label.dim), see ``LabelEncoder``."""
        h = torch.cat([z, code], 1)  # (B, z_dim + cond)
        h = self.dense(h).view(-1, *self.start_shape)  # (B, c0, s, s)
        return self.blocks(h)  # (B, C, H, W) in [-1, 1]


class DCGANDiscriminator(nn.Module):
    """[x, cond planes] -> k x [Conv kxk/2 + (BN) + LeakyReLU 0.2] -> linear logit (kernel 4 by default), with
    ``extra_layers`` same-size 3x3 blocks after the first.

    With ``label_mode='concat'`` the label enters as constant planes (one-hot: num_classes planes, or a learnt
    embedding); with ``'projection'`` the image enters alone and the head adds <embed(y), features>.
    """

    def __init__(self, channels: int, resolution: int, width: int, batchnorm: bool,
                 conditioning: str, num_classes: int, embed_dim: int, kernel_size: int, label_mode: str = "concat",
                 extra_layers: int = 0):
        super().__init__()
        projection = label_mode == "projection" and conditioning != "none"
        self.label = LabelEncoder("none" if projection else conditioning, num_classes, embed_dim)
        side, blocks = conv_layout(resolution)
        padding, _ = doubling_padding(kernel_size)
        layers: list[nn.Module] = []
        c = channels + self.label.dim
        for i in range(blocks):
            c_out = width * 2 ** i
            layers.append(nn.Conv2d(c, c_out, kernel_size, 2, padding, bias=not (batchnorm and i > 0)))
            if batchnorm and i > 0:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            if i == 0:
                layers += same_size_blocks(c_out, extra_layers, batchnorm, nn.LeakyReLU(0.2, inplace=True))
            c = c_out
        self.blocks = nn.Sequential(*layers)
        self.head = ProjectionHead(c * side * side, num_classes if projection else 0)
        self.in_shape = (channels, resolution, resolution)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        assert x.shape[1:] == self.in_shape, f"expected images {self.in_shape}, got {tuple(x.shape[1:])}"
        cond = self.label(y)  # (B, k)
        planes = cond[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        h = self.blocks(torch.cat([x, planes], 1))  # (B, c, s, s)
        return self.head(h.flatten(1), y)  # (B,) logits
