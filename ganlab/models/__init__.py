"""Generator and discriminator families. ``FAMILIES`` is the one registry: family -> builder."""

from __future__ import annotations

from typing import Callable

import torch.nn as nn

from ganlab.config import ModelConfig
from ganlab.data.spec import ImageSpec
from ganlab.errors import GanlabError
from ganlab.models.dcgan import DCGANDiscriminator, DCGANGenerator
from ganlab.models.init import dcgan_init
from ganlab.models.mlp import MLPDiscriminator, MLPGenerator


def build_dcgan(cfg: ModelConfig, spec: ImageSpec) -> tuple[nn.Module, nn.Module]:
    """DCGAN generator and discriminator, DCGAN-initialised."""
    g = DCGANGenerator(cfg.z_dim, spec.channels, spec.resolution, cfg.g_width,
                       cfg.conditioning, spec.num_classes, cfg.embed_dim)
    d = DCGANDiscriminator(spec.channels, spec.resolution, cfg.d_width, cfg.d_batchnorm,
                           cfg.conditioning, spec.num_classes, cfg.embed_dim)
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


FAMILIES: dict[str, Callable[[ModelConfig, ImageSpec], tuple[nn.Module, nn.Module]]] = {
    "dcgan": build_dcgan,
    "mlp": build_mlp,
}


def build_models(cfg: ModelConfig, spec: ImageSpec) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for the configured family and the data's image spec."""
    if cfg.family not in FAMILIES:
        raise GanlabError(f"unknown model.family '{cfg.family}'; use one of {', '.join(FAMILIES)}")
    return FAMILIES[cfg.family](cfg, spec)


def build_generator(cfg: ModelConfig, spec: ImageSpec) -> nn.Module:
    """The generator alone (for sampling from an export)."""
    return build_models(cfg, spec)[0]
