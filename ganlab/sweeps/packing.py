"""Which points can train as one batched computation, and how their tensors sit in the stacked ones.

Points pack together when their configs differ only in per-model keys (seed, learning rates, betas,
L1 weight) and, where zero padding is verified exact, in ``model.z_dim``. A model with z_dim = z
inside a group of width Z keeps its own weights in the first z latent columns of the input layer and
zeros in the next Z - z columns; its noise is drawn at width z and padded with zeros. Those zero
columns meet zero inputs, so they get zero gradients, Adam leaves them at zero, and every other
number is the same as in the unpadded model: the training is exactly the same up to float summation
order. ``padding_is_exact`` checks this on the real family before a group relies on it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any, Sequence

import torch

from ganlab.config import Config, flatten, to_dict
from ganlab.data.spec import ImageSpec
from ganlab.errors import GanlabError
from ganlab.models import build_models

PER_MODEL_KEYS = ("seed", "train.lr_g", "train.lr_d", "train.betas_g", "train.betas_d", "train.l1_weight")
LATENT_KEY = "model.z_dim"


def pack_key(cfg: Config, pad_latent: bool) -> str:
    """Configs with equal keys can share one packed group."""
    skip = PER_MODEL_KEYS + ((LATENT_KEY,) if pad_latent else ())
    flat = {k: v for k, v in flatten(to_dict(cfg)).items() if k not in skip}
    return json.dumps(flat, sort_keys=True)


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    """``items`` in consecutive chunks of at most ``size`` (0 = one chunk)."""
    if size <= 0 or len(items) <= size:
        return [items]
    return [items[i:i + size] for i in range(0, len(items), size)]


class PaddedLayout:
    """Maps each model's tensors (its own shapes) to and from the group's stacked, padded shapes."""

    def __init__(self, base_shapes: dict[str, torch.Size], model_shapes: Sequence[dict[str, torch.Size]],
                 z_dims: Sequence[int], z_max: int):
        self.z_dims, self.z_max = list(z_dims), z_max
        self.pad_dim: dict[str, int] = {}
        for own_shapes, z in zip(model_shapes, z_dims):
            for name, base in base_shapes.items():
                own = own_shapes[name]
                if own == base:
                    continue
                dims = [d for d in range(len(base)) if base[d] != own[d]]
                if len(own) != len(base) or len(dims) != 1 or base[dims[0]] - own[dims[0]] != z_max - z:
                    raise GanlabError(f"cannot pad {name} from {tuple(own)} to {tuple(base)} for z_dim {z}; "
                                      f"set pad_latent: false in the sweep")
                self.pad_dim[name] = dims[0]

    def pad(self, name: str, k: int, t: torch.Tensor) -> torch.Tensor:
        """Model k's tensor in the group's shape (zeros in its unused latent columns)."""
        if name not in self.pad_dim or self.z_dims[k] == self.z_max:
            return t
        d, z = self.pad_dim[name], self.z_dims[k]
        rest = t.shape[d] - z
        shape = list(t.shape)
        shape[d] = self.z_max + rest
        out = t.new_zeros(shape)
        out.narrow(d, 0, z).copy_(t.narrow(d, 0, z))
        out.narrow(d, self.z_max, rest).copy_(t.narrow(d, z, rest))
        return out

    def unpad(self, name: str, k: int, t: torch.Tensor) -> torch.Tensor:
        """Model k's own tensor from its slice of the group's tensor."""
        if name not in self.pad_dim or self.z_dims[k] == self.z_max:
            return t
        d, z = self.pad_dim[name], self.z_dims[k]
        rest = t.shape[d] - self.z_max
        return torch.cat([t.narrow(d, 0, z), t.narrow(d, self.z_max, rest)], d)


def shapes(module: torch.nn.Module) -> dict[str, torch.Size]:
    """The shape of every tensor of a module's state dict, by name."""
    return {n: t.shape for n, t in module.state_dict().items()}


@torch.no_grad()
def padding_is_exact(cfg: Config, spec: ImageSpec, z_dims: Sequence[int]) -> bool:
    """True when a generator with z_dim z, padded to max(z_dims), gives the same images as itself
    (train and eval mode, random latents and labels) for every z in ``z_dims``."""
    z_max = max(z_dims)
    for z in sorted(set(z_dims)):
        if z == z_max:
            continue
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            own, _ = build_models(dataclasses.replace(cfg.model, z_dim=z), spec)
            wide, _ = build_models(dataclasses.replace(cfg.model, z_dim=z_max), spec)
        try:
            layout = PaddedLayout(shapes(wide), [shapes(own)], [z], z_max)
        except GanlabError:
            return False
        wide.load_state_dict({n: layout.pad(n, 0, t) for n, t in own.state_dict().items()})
        g = torch.Generator().manual_seed(1)
        latent = torch.randn(16, z, generator=g)
        labels = torch.randint(0, max(1, spec.num_classes), (16,), generator=g)
        padded = torch.cat([latent, latent.new_zeros(16, z_max - z)], 1)
        for mode in (True, False):
            a, b = copy.deepcopy(own).train(mode), copy.deepcopy(wide).train(mode)
            if not torch.allclose(a(latent, labels), b(padded, labels), rtol=1e-5, atol=1e-6):
                return False
    return True
