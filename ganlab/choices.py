"""The allowed values of every option that names a choice: the bottom layer, imported by the schema that checks
them (``ganlab.config``) and by the registries that implement them.

A registry (model families, inits, losses, metrics) is built with ``registry(option, {...})``, which refuses a
table whose names differ from the option's here, so validating a config needs no registry (and no torch) while
the two cannot drift apart.
"""

from __future__ import annotations

from typing import TypeVar

CHOICES: dict[str, tuple[str, ...]] = {
    "model.family": ("dcgan", "mlp", "resnet"),
    "model.init": ("auto", "dcgan", "xavier", "orthogonal"),
    "model.conditioning": ("none", "onehot", "embedding"),
    "model.g_activation": ("relu", "leakyrelu"),
    "model.upsample": ("resize", "transposed"),
    "model.g_cond": ("input", "cbn"),
    "model.d_cond": ("concat", "projection"),
    "train.loss": ("bce", "bce-minimax", "hinge", "lsgan", "wgan-gp"),
    "train.lr_schedule": ("step", "linear", "none"),
    "train.precision": ("fp32", "bf16"),
    "train.fast_path": ("auto", "eager", "cpu", "compile", "cudagraph"),
    "eval.ref": ("train", "test"),
    "eval.metrics": ("fid", "is", "cis", "kid", "pr", "ifid", "acc", "floor", "cfd", "share", "checker"),
    "eval.probes": ("dacc", "spread", "zero", "noise", "fakelabel", "paths"),
}
SWEEP_BACKENDS = ("auto", "sequential", "parallel", "packed", "ray")  # a sweep spec's backend (not a run option)

UNREGISTERED: dict[str, tuple[str, ...]] = {  # allowed values that no registry entry implements
    "model.init": ("auto",),  # the family's own init
}

T = TypeVar("T")


def registry(option: str, table: dict[str, T]) -> dict[str, T]:
    """``table`` as the registry of ``option``; refused when its names are not the option's choices."""
    expected = tuple(v for v in CHOICES[option] if v not in UNREGISTERED.get(option, ()))
    if tuple(table) != expected:
        raise RuntimeError(f"the {option} registry holds {', '.join(table)} but ganlab/choices.py lists "
                           f"{', '.join(expected)}; name the entries the same, in the same order, in both")
    return table
