"""Drawing images from a sampler function (labels -> uint8 images), with its output checked."""

from __future__ import annotations

from typing import Callable

import torch

from ganlab.data import to_uint8
from ganlab.errors import GanlabError
from ganlab.models.generation import generate, latents_for_seeds

Sampler = Callable[[torch.Tensor], torch.Tensor]  # labels (B,) long -> uint8 images (B, C, H, W)


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """n labels cycling through the classes (0, 1, ..., K-1, 0, ...); all zeros when unconditional."""
    return torch.arange(n) % max(1, num_classes)


def draw(sampler: Sampler, labels: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """All images for ``labels``, asked of the sampler in batches; each batch checked for dtype and shape."""
    out = []
    for i in range(0, labels.shape[0], batch_size):
        y = labels[i:i + batch_size]
        images = sampler(y)
        if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8:
            what = images.dtype if isinstance(images, torch.Tensor) else type(images).__name__
            raise GanlabError(f"the sampler returned {what}; it must return uint8 images (N, C, H, W), "
                              f"e.g. ganlab.data.to_uint8(G(z, labels))")
        if images.dim() != 4 or images.shape[0] != y.shape[0] or images.shape[1] not in (1, 3):
            raise GanlabError(f"the sampler returned shape {tuple(images.shape)} for {y.shape[0]} labels; it must "
                              f"return (N, C, H, W) with N = number of labels and C = 1 or 3")
        if out and images.shape[1:] != out[0].shape[1:]:
            raise GanlabError(f"the sampler changed image shape between batches: {tuple(out[0].shape[1:])} then "
                              f"{tuple(images.shape[1:])}")
        out.append(images.cpu())
    if not out:
        raise GanlabError("nothing to evaluate: the number of samples must be above 0")
    return torch.cat(out)


def generator_sampler(generator: torch.nn.Module, z_dim: int, device: torch.device | str,
                      first_seed: int = 0) -> Sampler:
    """A sampler over a generator module: the i-th image drawn uses latent seed first_seed + i."""
    counter = {"next": first_seed}

    def sample(labels: torch.Tensor) -> torch.Tensor:
        start = counter["next"]
        counter["next"] += labels.shape[0]
        z = latents_for_seeds(range(start, start + labels.shape[0]), z_dim, device)
        return to_uint8(generate(generator, z, labels.to(device))).cpu()

    return sample
