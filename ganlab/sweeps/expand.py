"""Expand a sweep spec into points: one validated run Config per (grid cell, seed)."""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ganlab.config import Config, flatten, from_dict, load_config, to_dict, validate
from ganlab.errors import GanlabError
from ganlab.folders import matches_values, resolve_extremes, swept_values
from ganlab.sweeps.spec import SEED_KEY, SweepSpec, format_value, named_values


@dataclass
class Point:
    id: str  # directory-safe name, e.g. "z_dim=16_seed=2"; stable when the sweep grows
    values: dict[str, Any]  # swept dotted key -> value (seed excluded)
    seed: int
    cfg: Config  # the resolved run config of this point

    @cached_property
    def flat_config(self) -> dict[str, Any]:
        """The config as one dict with dotted keys (computed once: results tables are rewritten often)."""
        return flatten(to_dict(self.cfg))


def _short_names(keys: list[str]) -> dict[str, str]:
    """The last component of each dotted key, or the whole key where two last components collide."""
    last = [k.split(".")[-1] for k in keys]
    return {k: (s if last.count(s) == 1 else k) for k, s in zip(keys, last)}


def point_id(values: dict[str, Any], seed: int, short: dict[str, str]) -> str:
    """Directory name of a point: 'short=value' pairs and the seed, odd characters replaced by '-'."""
    parts = [f"{short[k]}={format_value(v)}" for k, v in values.items()] + [f"seed={seed}"]
    return re.sub(r"[^A-Za-z0-9._=+-]", "-", "_".join(parts))


def _kept_cells_and_dropped_seeds(
        spec: SweepSpec) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], list[int]]]]:
    """The cells left after the exclude entries without a seed, and (cell values, seeds) of each entry with some;
    ``min`` / ``max`` resolved against every cell, before any exclusion."""
    keys = list(spec.grid)
    product = [dict(zip(keys, combo)) for combo in itertools.product(*(spec.grid[k] for k in keys))]
    every = [{**p, **g} for p in (spec.points or [{}]) for g in product]
    whole, by_seed = [], []
    for entry in spec.exclude:
        matched = [cell for cell in _entry_cells(entry, every) if any(matches_values(c, cell) for c in every)]
        if not matched:  # (a seed the sweep does not train is left out anyway)
            raise GanlabError(f"exclude entry {entry} matches no cell of the sweep; check its keys and values")
        if SEED_KEY in entry:
            by_seed += [(cell, entry[SEED_KEY]) for cell in matched]
        else:
            whole += matched
    return [c for c in every if not any(matches_values(c, cell) for cell in whole)], by_seed


def _entry_cells(entry: dict[str, Any], every: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cell values an exclude entry names: a list for a key whose values are not lists means any of its
    items (values this scale does not sweep are passed over); ``min`` / ``max`` resolved against ``every``."""
    keys = [k for k in entry if k != SEED_KEY]

    def choices(key: str) -> list[Any]:
        return named_values(entry[key], swept_values(key, every))

    return [resolve_extremes(dict(zip(keys, combo)), every) for combo in itertools.product(*map(choices, keys))]


def cells(spec: SweepSpec) -> list[dict[str, Any]]:
    """The swept values of every point before seeds: explicit points crossed with the grid's product, less the
    excluded cells (``min`` / ``max`` there name a key's smallest / largest value, so an exclusion holds when a
    scale swaps the values). An exclude entry that names seeds leaves out those seeds only (see ``expand``)."""
    return _kept_cells_and_dropped_seeds(spec)[0]


def _with_values(base: dict[str, Any], values: dict[str, Any]) -> Config:
    """The base config (as a dict) with dotted keys set, typed and validated by the schema."""
    data = copy.deepcopy(base)
    for key, value in values.items():
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    cfg = from_dict(data)
    validate(cfg)
    return cfg


def expand(spec: SweepSpec) -> list[Point]:
    """Every (cell, seed) point with its validated Config, seeds innermost."""
    short = _short_names(spec.swept_keys)
    base = to_dict(load_config(spec.base, list(spec.overrides)))  # keys were checked by validate_spec
    points: list[Point] = []
    seen: set[str] = set()
    kept, by_seed = _kept_cells_and_dropped_seeds(spec)
    for values in kept:
        dropped = {seed for cell, seeds in by_seed if matches_values(values, cell) for seed in seeds}  # left out here
        for seed in [s for s in spec.seeds if s not in dropped]:
            try:
                cfg = _with_values(base, {**values, "seed": seed})
            except (GanlabError, KeyError, TypeError) as e:
                items = " ".join(f"{k}={format_value(v)}" for k, v in {**values, "seed": seed}.items())
                raise GanlabError(f"sweep point {items}: {e}") from None
            pid = point_id(values, seed, short)
            if pid in seen:
                raise GanlabError(f"sweep point {pid} appears twice; remove the repeated value from the grid or points")
            seen.add(pid)
            points.append(Point(pid, values, seed, cfg))
    return points
