"""The one syntax of values on the command line: override values read as YAML, and lists and ranges, the same
in sweeps (``model.z_dim=0:129:8``) and in every command's options (``--seeds 0:64``, ``--eps 0,0.5,1``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

import yaml

from ganlab.errors import GanlabError, warn


def yaml_scalar(raw: str) -> Any:
    """Parse one override value the way YAML would (numbers, booleans, lists, null)."""
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


_RANGE = re.compile(r"(-?\d+):(-?\d+)(?::(-?\d+))?")
_OLD_INCLUSIVE_RANGE = re.compile(r"(\d+)-(\d+)")


def parse_list(text: str, what: str = "value") -> list[Any]:
    """The one syntax of lists and ranges, in sweeps and in every command's options: items separated by commas,
    each a value or a range ``a:b[:step]`` with b excluded, as Python's range ('0:4,7' -> [0, 1, 2, 3, 7],
    '0:129:32' -> [0, 32, 64, 96, 128], '1e-4,3e-4' -> [0.0001, 0.0003]); a bracketed YAML list ('[0.5, 0.9]',
    '[[0.5, 0.9], [0.0, 0.9]]') is taken as it is. ``what`` names the option in messages.

    The old inclusive form 'a-b' (e.g. --seeds 0-63) is still read, as a:b+1, with a one-line note."""
    text = text.strip()
    if text.startswith("["):
        parsed = yaml_scalar(text)
        return parsed if isinstance(parsed, list) else [parsed]
    values: list[Any] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if m := _RANGE.fullmatch(part):
            values += _range(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1), part, what)
        elif m := _OLD_INCLUSIVE_RANGE.fullmatch(part):
            a, b = int(m.group(1)), int(m.group(2))
            warn(f"{what} {part}: read as {a}:{b + 1} (ranges are written a:b, b excluded, as everywhere in ganlab)")
            values += _range(a, b + 1, 1, part, what)
        else:
            values.append(_number_or_yaml(part))
    return values


def _range(start: int, stop: int, step: int, text: str, what: str) -> list[int]:
    if step == 0:
        raise GanlabError(f"{what}: range '{text}' has step 0; write a:b or a:b:step with step != 0")
    values = list(range(start, stop, step))
    if not values:
        raise GanlabError(f"{what}: range '{text}' is empty (a:b stops before b, as Python's range)")
    return values


def _number_or_yaml(text: str) -> Any:
    """'3' -> 3, '1e-4' -> 0.0001 (which YAML 1.1 would leave a string), else YAML's reading."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return yaml_scalar(text)


def parse_ints(text: str, what: str, minimum: Optional[int] = None) -> list[int]:
    """``parse_list`` for integer options (seeds, labels, classes); refuses anything else with the syntax."""
    values = parse_list(text, what)
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise GanlabError(f"{what} '{text}' is not a list of integers; write e.g. 0,3,7 or 0:64 (b excluded)")
    if minimum is not None and min(values) < minimum:
        raise GanlabError(f"{what} '{text}' has values below {minimum}")
    return values


def parse_floats(text: str, what: str) -> list[float]:
    """``parse_list`` for numeric options (noise scales, slices)."""
    values = parse_list(text, what)
    if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise GanlabError(f"{what} '{text}' is not a list of numbers; write e.g. 0,0.5,1")
    return [float(v) for v in values]


def yaml_file(path: str | Path, what: str, expected: str) -> dict[str, Any]:
    """A YAML file holding a mapping (a study file, a sweep file): refused in one line naming the file, where its
    YAML breaks, and what it should hold (``expected``)."""
    path = Path(path)
    if not path.is_file():
        raise GanlabError(f"{what} {path} not found; pass {expected}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise GanlabError(f"{what} {path} is not valid YAML{line}: {getattr(e, 'problem', None) or e}; fix the file "
                          f"({expected})") from None
    if not isinstance(data, dict):
        raise GanlabError(f"{what} {path} is not a YAML mapping; it must be {expected}")
    return data
