"""``ganlab sample``: seeded samples of a run's generator (or an export file) as a grid and raw arrays."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from ganlab.data.sampler import to_uint8
from ganlab.devices import resolve_device
from ganlab.errors import GanlabError
from ganlab.models.export import load_generator_source
from ganlab.models.sampling import Samples, generate, latents_for_seeds, seeded_labels


def sample_images(source: str | Path, labels: Sequence[int] | None = None, n: int | None = None,
                  seeds: Sequence[int] | None = None, epoch: int | None = None,
                  device: str | torch.device = "auto") -> Samples:
    """Samples from a run's generator export: sample i from seeds[i] (default 0..n-1), labels in blocks."""
    device = resolve_device(device)
    g, cfg, spec, _ = load_generator_source(source, epoch, device)
    if spec.num_classes == 0:
        labels = [0]
    elif labels is None:
        labels = list(range(spec.num_classes))
    bad = [c for c in labels if not 0 <= c < max(1, spec.num_classes)]
    if bad:
        raise GanlabError(f"label(s) {bad} out of range: this generator knows classes 0..{spec.num_classes - 1}")
    if seeds is None:
        seeds = list(range(n if n is not None else 8 * len(labels)))
    elif n is not None and n != len(seeds):
        raise GanlabError(f"--n {n} disagrees with {len(seeds)} seeds; give one of them")
    if not seeds:
        raise GanlabError("nothing to sample: give --n above 0 or some --seeds")
    z = latents_for_seeds(seeds, cfg.model.z_dim, device)
    y = seeded_labels(len(seeds), labels).to(device)
    images = to_uint8(generate(g, z, y)).cpu()
    return Samples(images, y.cpu(), list(seeds))
