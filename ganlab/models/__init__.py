"""Generator and discriminator families. ``FAMILIES`` is the one registry: family -> builder."""

from __future__ import annotations

from typing import Callable

import torch.nn as nn

from ganlab.choices import registry
from ganlab.config import ModelConfig
from ganlab.data.spec import ImageSpec
from ganlab.models.dcgan import DCGANDiscriminator, DCGANGenerator
from ganlab.models.init import INITS, dcgan_init
from ganlab.models.mlp import MLPDiscriminator, MLPGenerator
from ganlab.models.normalization import apply_spectral_norm
from ganlab.models.resnet import ResNetDiscriminator, ResNetGenerator


def build_dcgan(cfg: ModelConfig, spec: ImageSpec) -> tuple[nn.Module, nn.Module]:
    """DCGAN generator and discriminator, DCGAN-initialised."""
    g = DCGANGenerator(cfg.z_dim, spec.channels, spec.resolution, cfg.g_width,
                       cfg.conditioning, spec.num_classes, cfg.embed_dim, cfg.kernel_size, cfg.g_activation,
                       cfg.extra_layers)
    d = DCGANDiscriminator(spec.channels, spec.resolution, cfg.d_width, cfg.d_batchnorm,
                           cfg.conditioning, spec.num_classes, cfg.embed_dim, cfg.kernel_size, cfg.d_cond,
                           cfg.extra_layers)
    dcgan_init(g)
    dcgan_init(d)
    return g, d


def build_mlp(cfg: ModelConfig, spec: ImageSpec) -> tuple[nn.Module, nn.Module]:
    """MLP generator and discriminator (g_width / d_width = hidden units)."""
    g = MLPGenerator(cfg.z_dim, spec.channels, spec.resolution, cfg.g_width,
                     cfg.conditioning, spec.num_classes, cfg.embed_dim)
    d = MLPDiscriminator(spec.channels, spec.resolution, cfg.d_width,
                         cfg.conditioning, spec.num_classes, cfg.embed_dim)
    return g, d


def build_resnet(cfg: ModelConfig, spec: ImageSpec) -> tuple[nn.Module, nn.Module]:
    """ResNet generator and discriminator (Gulrajani et al. / SNGAN), SNGAN xavier-initialised."""
    g = ResNetGenerator(cfg.z_dim, spec.channels, spec.resolution, cfg.g_width, cfg.conditioning,
                        spec.num_classes, cfg.embed_dim, cfg.g_cond, cfg.g_batchnorm, cfg.upsample)
    d = ResNetDiscriminator(spec.channels, spec.resolution, cfg.d_width, cfg.d_batchnorm, cfg.conditioning,
                            spec.num_classes, cfg.embed_dim, cfg.d_cond, cfg.d_label_depth, cfg.d_extra_blocks,
                            cfg.d_min_side)
    return g, d


FAMILIES: dict[str, Callable[[ModelConfig, ImageSpec], tuple[nn.Module, nn.Module]]] = registry("model.family", {
    "dcgan": build_dcgan,
    "mlp": build_mlp,
    "resnet": build_resnet,
})


def build_models(cfg: ModelConfig, spec: ImageSpec) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for the configured family and the data's image spec.

    Then, for any family: ``model.init`` (unless auto) re-initialises both, and spectral norm wraps the weights.
    """
    g, d = FAMILIES[cfg.family](cfg, spec)
    if cfg.init != "auto":
        INITS[cfg.init](g)
        INITS[cfg.init](d)
    if cfg.d_spectral_norm:
        apply_spectral_norm(d, embeddings=True)
    if cfg.g_spectral_norm:
        apply_spectral_norm(g, embeddings=False)
    return g, d


def build_generator(cfg: ModelConfig, spec: ImageSpec) -> nn.Module:
    """The generator alone (for sampling from an export)."""
    return build_models(cfg, spec)[0]
