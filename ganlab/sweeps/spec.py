"""The sweep schema: a base run config, swept dotted keys, seeds and an execution backend.

A sweep YAML file looks like::

    base: configs/report000_cgan_mnist.yaml   # run config every point starts from
    overrides: [train.epochs=20]                # key=value applied to the base before the swept keys
    grid:                                       # cartesian product over dotted config keys
      model.z_dim: "0:129:2"                    # a:b[:step] is a Python range, or give a YAML list
    exclude: [{model.z_dim: max}]               # cells not trained (a value, a list of values, or min / max of
                                                # the key's values; with seed: N or seed: "3:5", those seeds only)
    seeds: [0, 1, 2]                            # every point is trained once per seed
    backend: packed
    eval: {metrics: [fid, cfd], n: 10000}      # evaluate every finished point (EvalConfig fields)
    metric: fid                                 # what the figures draw: fid10k_test under the eval settings

The inline form ``ganlab sweep configs/x.yaml model.z_dim=0:129 seed=0,1,2`` builds the same
spec from a run config and ``key=VALUES`` items in ganlab's one list syntax (``syntax.parse_list``:
``a:b[:step]`` a range with b excluded, ``a,b,c`` a list, items mixable: ``0:4,8``).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from ganlab.choices import SWEEP_BACKENDS
from ganlab.config import EvalConfig, load_config
from ganlab.errors import GanlabError
from ganlab.folders import resolve_extremes, same_value
from ganlab.syntax import parse_list, yaml_file

SEED_KEY = "seed"


@dataclass
class SweepSpec:
    base: Optional[str] = None  # run config YAML every point starts from; None = ganlab's defaults
    overrides: list[str] = field(default_factory=list)  # key=value items applied to the base before the swept keys
    grid: dict[str, list[Any]] = field(default_factory=dict)  # dotted key -> values; the points are their product
    points: list[dict[str, Any]] = field(default_factory=list)  # explicit points (dotted key -> value), crossed with grid
    exclude: list[dict[str, Any]] = field(default_factory=list)  # cells left out (dotted key -> value, min or max;
    #                                                               seed -> the list of seeds left out of them)
    seeds: list[int] = field(default_factory=lambda: [0])  # every point is trained once per seed
    backend: str = "auto"  # auto (parallel on a CPU with several points and cores, else sequential) | sequential | parallel | packed | ray
    workers: int = 0  # parallel: worker processes, one CPU thread each; 0 = one per allowed core
    pack_size: int = 0  # packed: most models trained in one batched group; 0 = a whole shape group
    pad_latent: bool = True  # packed: points differing only in model.z_dim share one zero-padded input (verified exact)
    ray_address: Optional[str] = None  # ray: address of an existing cluster; None = start a local instance
    eval: dict[str, Any] = field(default_factory=dict)  # EvalConfig fields every finished point is evaluated with; {} = none
    metric: str = "fid"  # what the figures draw: a metric (fid -> its protocol column, e.g. fid10k_test) or a column
    lower_is_better: bool = True  # direction of the metric (for the plateau estimate)
    floor: bool = True  # measure the metric's real-vs-real floor with the same protocol and draw it (fid, cfd, kid)

    @property
    def swept_keys(self) -> list[str]:
        """The dotted keys that vary between points (besides the seed), in order of first mention."""
        keys = list(self.grid)
        for p in self.points:
            keys += [k for k in p if k not in keys]
        return keys


def parse_values(raw: Any) -> list[Any]:
    """Values of one swept key: a YAML list as it is, text in ganlab's list syntax (``syntax.parse_list``:
    'a:b[:step]' a range, 'a,b,c' a list), anything else one value."""
    if isinstance(raw, (list, tuple)):
        return list(raw)
    if isinstance(raw, str):
        return parse_list(raw, "sweep values")
    return [raw]


def parse_seeds(raw: Any) -> list[int]:
    """Seeds in the sweep's value syntax (a list, 'a:b', 'a,b' or one seed): distinct non-negative integers."""
    seeds = parse_values(raw)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise GanlabError(f"seeds must be non-negative integers (e.g. seeds: [0, 1, 2] or seed=0:3), got {raw!r}")
    if len(set(seeds)) != len(seeds):
        raise GanlabError(f"seeds repeat in {seeds}; list each seed once")
    return seeds


def _spec_fields() -> list[str]:
    return [f.name for f in dataclasses.fields(SweepSpec)]


def spec_from_dict(data: dict[str, Any], where: str = "sweep spec") -> SweepSpec:
    """Build and validate a SweepSpec from its YAML dict form; unknown fields are refused with suggestions."""
    known = _spec_fields()
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else "known fields: " + ", ".join(known)
            raise GanlabError(f"unknown field '{key}' in {where}: {hint}")
    if "floor" in data and not isinstance(data["floor"], bool):
        raise GanlabError(f"floor: {data['floor']!r} in {where}: the floor is measured with the metric's own protocol, "
                          f"not typed in; write floor: true (or false to draw none)")
    spec = SweepSpec(**{k: v for k, v in data.items() if k not in ("grid", "seeds", "points", "exclude", "overrides")})
    spec.eval = dict(data.get("eval") or {})
    spec.overrides = [str(o) for o in data.get("overrides") or []]
    grid = dict(data.get("grid") or {})
    if SEED_KEY in grid:
        spec.seeds = parse_seeds(grid.pop(SEED_KEY))
    if "seeds" in data:
        spec.seeds = parse_seeds(data["seeds"])
    spec.grid = {str(k): parse_values(v) for k, v in grid.items()}
    spec.points = [dict(p) for p in data.get("points") or []]
    spec.exclude = [{**e, SEED_KEY: parse_seeds(e[SEED_KEY])} if SEED_KEY in e else dict(e)
                    for e in data.get("exclude") or []]
    validate_spec(spec)
    return spec


def load_sweep_file(path: str | Path) -> SweepSpec:
    """Read a sweep YAML file; a relative ``base`` is taken beside the file, else from the current directory."""
    path = Path(path)
    data = yaml_file(path, "sweep file", "a mapping with base, grid, seeds, backend, such as "
                                         "configs/sweep_report000_latent.yaml")
    base = data.get("base")
    if base and not Path(base).is_absolute() and (path.parent / base).is_file():
        data["base"] = str(path.parent / base)
    return spec_from_dict(data, f"sweep file {path}")


def is_sweep_file(path: str | Path) -> bool:
    """True when a YAML file is a sweep spec (has a base, grid, points or seeds field), not a run config."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except Exception:
        return False
    return isinstance(data, dict) and bool({"base", "grid", "points", "seeds"} & set(data))


def build_spec(source: Optional[str], items: list[str] | tuple[str, ...] = ()) -> SweepSpec:
    """A spec from a sweep file or a run config plus inline ``key=VALUES`` items: several values add or replace
    an axis, a single value becomes a fixed override of every point."""
    if source and is_sweep_file(source):
        spec = load_sweep_file(source)
    else:
        spec = SweepSpec(base=source)
    for item in items:
        if "=" not in item:
            raise GanlabError(f"sweep item '{item}' is not key=VALUES (e.g. model.z_dim=0:129 or seed=0,1,2)")
        key, raw = (s.strip() for s in item.split("=", 1))
        if key in (SEED_KEY, "seeds"):
            spec.seeds = parse_seeds(raw)
        else:
            values = parse_values(raw)
            if len(values) == 1 and key not in spec.grid:  # a single value is a fixed override, not an axis
                spec.overrides.append(f"{key}={format_value(values[0])}")
            else:
                if key in spec.grid and _among(values, spec.grid[key]):  # a narrower axis: its cells are a subset
                    pinned = [_pin_extremes(e, key, spec.grid[key]) for e in spec.exclude]
                    spec.exclude = [e for e in pinned if _still_swept(e, key, values)]
                spec.grid[key] = values
    validate_spec(spec)
    return spec


def _among(values: list[Any], axis: list[Any]) -> bool:
    """Whether every one of ``values`` is a value of ``axis``."""
    return all(any(same_value(a, v) for a in axis) for v in values)


def _pin_extremes(entry: dict[str, Any], key: str, axis: list[Any]) -> dict[str, Any]:
    """The entry with ``key``'s ``min`` / ``max`` replaced by that value of ``axis`` (the axis it was written for,
    before an inline item narrows it: the widest width stays excluded, not the widest one left)."""
    if key not in entry:
        return entry
    return {**entry, key: resolve_extremes({key: entry[key]}, [{key: v} for v in axis])[key]}


def named_values(wanted: Any, values: list[Any]) -> list[Any]:
    """The values an exclude entry's ``wanted`` names among a key's swept ``values``: a list means any of its items,
    unless the key's values are lists themselves (then it is one value)."""
    return wanted if isinstance(wanted, list) and not any(isinstance(v, list) for v in values) else [wanted]


def _still_swept(entry: dict[str, Any], key: str, values: list[Any]) -> bool:
    """Whether an exclude entry (its extremes pinned) can still name a cell once ``key``'s axis narrows to
    ``values``: an entry naming only values left out goes with them (model.z_dim=16 seed=0:4 keeps no exclusion of
    z = 8); an axis swapped for other values keeps its entries, and one naming none of them is refused as before."""
    return key not in entry or any(_among([w], values) for w in named_values(entry[key], values))


def validate_spec(spec: SweepSpec) -> None:
    """Refuse bad backends and sizes, and any swept key the run Config schema does not have (with suggestions)."""
    if spec.backend not in SWEEP_BACKENDS:
        raise GanlabError(f"backend={spec.backend!r} is not one of {', '.join(SWEEP_BACKENDS)}")
    if spec.workers < 0:
        raise GanlabError(f"workers must be >= 0 (0 = one per allowed core), got {spec.workers}")
    if spec.pack_size < 0:
        raise GanlabError(f"pack_size must be >= 0 (0 = whole shape groups), got {spec.pack_size}")
    for key, values in spec.grid.items():
        if not values:
            raise GanlabError(f"grid key {key} has no values; give a list or an a:b range")
    for point in spec.points:
        if SEED_KEY in point:
            raise GanlabError("a point may not set seed; list seeds under 'seeds' and every point runs each")
    for cell in spec.exclude:
        unknown = [k for k in cell if k not in spec.swept_keys and k != SEED_KEY]
        if not set(cell) - {SEED_KEY} or unknown:
            raise GanlabError(f"exclude entry {cell} must name swept keys ({', '.join(spec.swept_keys) or 'none'}), "
                              f"and seed to leave out some seeds only; {', '.join(unknown) or 'it names no swept key'}")
    # Validates every swept key (unknown keys get suggestions), the base, its overrides and the eval settings.
    probe = [f"{k}={format_value(v[0])}" for k, v in spec.grid.items()]
    load_config(spec.base, list(spec.overrides) + probe + eval_overrides(spec))
    for point in spec.points:
        load_config(spec.base, list(spec.overrides) + [f"{k}={format_value(v)}" for k, v in point.items()])


def eval_overrides(spec: SweepSpec) -> list[str]:
    """The spec's eval block as eval.KEY=VALUE overrides (how it is validated and applied)."""
    return [f"eval.{k}={format_value(v)}" for k, v in spec.eval.items()]


def eval_settings(spec: SweepSpec) -> EvalConfig:
    """The evaluation of the sweep's points: the base config's eval section with the spec's eval block."""
    return load_config(spec.base, list(spec.overrides) + eval_overrides(spec)).eval


def format_value(value: Any) -> str:
    """A value as the text of a ``key=value`` override (JSON is YAML, so lists and numbers round-trip)."""
    return value if isinstance(value, str) else json.dumps(value)


def spec_to_dict(spec: SweepSpec) -> dict[str, Any]:
    """The spec as plain data (what a sweep directory keeps in sweep.yaml)."""
    return dataclasses.asdict(spec)
