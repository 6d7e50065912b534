"""Verdicts on a report's findings from per-seed measurements: pure functions over numbers (numpy, scipy).

A point's measurements are a mapping seed -> value. Comparisons are paired by seed: only seeds present,
and finite, in every compared point count (the rest are named in the verdict's detail). Each rule returns
a Verdict with the measured mean, its Student-t interval at LEVEL over seeds, the number of seeds and the
test's name; fewer than MIN_SEEDS seeds decide nothing. No rule assumes "lower is better": each states
the claimed direction. An inconclusive verdict also says which way its mean points (``leaning``) and how many
seeds would get it there if its mean and seed spread held (``seeds_to_decide``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Hashable, Mapping, Optional, Sequence

import numpy as np
from scipy import stats

from ganlab.errors import GanlabError

LEVEL = 0.95
MIN_SEEDS = 3
POWER = 0.8  # seeds_to_decide: the chance that that many seeds decide, if the mean and spread held
MAX_PROJECTED_SEEDS = 1000  # seeds_to_decide projects no further than this

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
STILL_CHANGING = "inconclusive (still changing)"
TOO_FEW_SEEDS = "inconclusive (too few seeds)"
NOT_MEASURED = "inconclusive (not measured)"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, STILL_CHANGING, TOO_FEW_SEEDS, NOT_MEASURED)

Values = Mapping[int, float]
"""One point's measurements: seed -> value."""

_CLAIM_SIGNS = {">": 1, ">0": 1, "<": -1, "<0": -1}
_OPPOSITE = {REPRODUCED: NOT_REPRODUCED, NOT_REPRODUCED: REPRODUCED}
_LEVEL_TEXT = f"{LEVEL * 100:g} %"


@dataclass(frozen=True)
class Verdict:
    """One finding's verdict: the measured mean, its interval over seeds, and how it was decided."""

    verdict: str
    measured: float
    ci_low: float
    ci_high: float
    seeds: int
    test: str
    detail: str
    seeds_to_decide: Optional[int] = None  # inconclusive: seeds that would decide it at this mean and spread
    leaning: Optional[str] = None  # inconclusive: the verdict its mean points to (what those seeds would reach)

    @property
    def heading(self) -> Optional[str]:
        """The verdict it has, or for an inconclusive one the verdict its mean points to (``leaning``)."""
        return self.leaning if self.verdict == INCONCLUSIVE else self.verdict

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (NaN becomes None)."""
        return {key: None if isinstance(v, float) and math.isnan(v) else v for key, v in asdict(self).items()}


@dataclass(frozen=True)
class Interval:
    """A mean over n values and its Student-t interval at LEVEL (NaN bounds below two values)."""

    mean: float
    low: float
    high: float
    n: int


def interval(values: Sequence[float]) -> Interval:
    """Mean and Student-t interval at LEVEL; zero width when all values are equal."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if x.size < 2:
        return Interval(mean, math.nan, math.nan, 1)
    spread = 0.0 if np.ptp(x) == 0 else float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + LEVEL / 2, x.size - 1)) * spread / math.sqrt(x.size)
    return Interval(mean, mean - half, mean + half, int(x.size))


# ---------------------------------------------------------------------------------------------------------
# Pairing and deciding


@dataclass(frozen=True)
class _Paired:
    """Points aligned on their shared finite seeds; notes name the seeds left out and why."""

    seeds: list[int]
    columns: list[np.ndarray]
    notes: list[str]


def _seed_text(seeds: set) -> str:
    return ", ".join(str(s) for s in sorted(seeds, key=str))


def _pair(points: Sequence[Values]) -> _Paired:
    """Align points on the seeds present in all of them; seeds with a NaN (or inf) anywhere are dropped."""
    present = [set(p) for p in points]
    common = set.intersection(*present)
    unfinite = {s for s in common if not all(math.isfinite(float(p[s])) for p in points)}
    seeds = sorted(common - unfinite, key=str)
    notes = []
    if unfinite:
        notes.append(f"seed(s) {_seed_text(unfinite)} dropped (NaN or inf)")
    if unpaired := set.union(*present) - common:
        notes.append(f"seed(s) {_seed_text(unpaired)} unpaired, ignored")
    return _Paired(seeds, [np.array([float(p[s]) for s in seeds]) for p in points], notes)


def _sign(claim: str) -> int:
    """+1 for a claim "> 0", -1 for "< 0"."""
    if claim not in _CLAIM_SIGNS:
        raise GanlabError(f"claim {claim!r} is not one of {', '.join(_CLAIM_SIGNS)}: use '>' or '<'")
    return _CLAIM_SIGNS[claim]


def _side_of_zero(iv: Interval, claim: str) -> str:
    """REPRODUCED when the interval lies strictly on the claimed side of 0, NOT_REPRODUCED when on the other."""
    low, high = sorted((_sign(claim) * iv.low, _sign(claim) * iv.high))
    if low > 0:
        return REPRODUCED
    if high < 0:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def _in_band(iv: Interval, low: float, high: float) -> str:
    """REPRODUCED when the interval lies inside [low, high], NOT_REPRODUCED when entirely outside it."""
    if low <= iv.low and iv.high <= high:
        return REPRODUCED
    if iv.high < low or iv.low > high:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _t(n: int, quantile: float = 0.5 + LEVEL / 2) -> float:
    """Student's t quantile over n values (by default the one of a two-sided LEVEL interval)."""
    return float(stats.t.ppf(quantile, n - 1))


Decide = Callable[[Interval], str]
"""A rule's decision on an interval: REPRODUCED, NOT_REPRODUCED or INCONCLUSIVE."""


def leaning(iv: Interval, decide: Decide) -> str:
    """The verdict an interval's mean points to: the decision on a zero-width interval at the mean."""
    return decide(Interval(iv.mean, iv.mean, iv.mean, iv.n))


def seeds_to_decide(iv: Interval, decide: Decide) -> Optional[int]:
    """The seeds that would decide, with chance POWER, a t interval whose true mean and seed-to-seed spread are
    this one's: the smallest n >= MIN_SEEDS whose LEVEL interval, widened by the POWER quantile of the mean's
    error, ``decide`` no longer calls inconclusive (the usual sample size of a t test from a pilot). None when not
    estimable (fewer than two seeds, the mean on the rule's boundary) or beyond MAX_PROJECTED_SEEDS."""
    if iv.n < 2 or not (math.isfinite(iv.low) and math.isfinite(iv.high)) or leaning(iv, decide) == INCONCLUSIVE:
        return None
    spread = (iv.high - iv.low) / 2 * math.sqrt(iv.n) / _t(iv.n)  # the seeds' standard deviation
    for n in range(MIN_SEEDS, MAX_PROJECTED_SEEDS + 1):
        half = (_t(n) + _t(n, POWER)) * spread / math.sqrt(n)
        if decide(Interval(iv.mean, iv.mean - half, iv.mean + half, n)) != INCONCLUSIVE:
            return n
    return None


def _projection_text(n: Optional[int]) -> str:
    if n is None:
        return f"more seeds would not decide it at this mean (over {MAX_PROJECTED_SEEDS} needed)"
    return f"about {n} seeds would decide it with {POWER * 100:g} % chance if this mean and seed spread held"


def _verdict(iv: Interval, decide: Decide, test: str, what: str, notes: Sequence[str] = ()) -> Verdict:
    """A Verdict for an interval: ``decide``'s decision, or TOO_FEW_SEEDS below MIN_SEEDS; an inconclusive one with
    the verdict its mean points to and the seeds that would reach it."""
    enough = iv.n >= MIN_SEEDS
    decision = decide(iv)
    core = f"{what} = {_fmt(iv.mean)} [{_fmt(iv.low)}, {_fmt(iv.high)}] over {iv.n} seeds"
    if not enough:
        core += f" (at least {MIN_SEEDS} needed)"
    needed = toward = None
    if enough and decision == INCONCLUSIVE:
        needed, toward = seeds_to_decide(iv, decide), leaning(iv, decide)
        notes = [*notes, _projection_text(needed)]
    return Verdict(decision if enough else TOO_FEW_SEEDS, iv.mean, iv.low, iv.high, iv.n,
                   f"{test}, {_LEVEL_TEXT}, n={iv.n}", "; ".join([core, *notes]), needed, toward)


# ---------------------------------------------------------------------------------------------------------
# Rules


def _direction(a: Values, b: Values, claim: str, label: str) -> Verdict:
    paired = _pair([a, b])
    iv = interval(paired.columns[0] - paired.columns[1])
    return _verdict(iv, lambda i: _side_of_zero(i, claim), "paired t",
                    f"mean({label}) {claim.rstrip('0')} 0 claimed; measured", paired.notes)


def direction(a: Values, b: Values, claim: str) -> Verdict:
    """The claim "a - b > 0" (claim ">") or "< 0" (claim "<"), on the paired differences' interval."""
    return _direction(a, b, claim, "a - b")


def similar(a: Values, b: Values, tolerance: float) -> Verdict:
    """The claim "a and b are about equal": the paired relative difference (a - b) / ((a + b) / 2), its interval
    inside +-tolerance (a fraction); not reproduced when it lies entirely outside."""
    if not tolerance >= 0:
        raise GanlabError(f"tolerance {tolerance} is negative or NaN: give a tolerance >= 0 (a fraction, 0.15 = 15 %)")
    paired = _pair([a, b])
    iv = interval((paired.columns[0] - paired.columns[1]) / ((paired.columns[0] + paired.columns[1]) / 2))
    what = f"relative difference (a - b) / mean(a, b) within +-{_fmt(tolerance)} claimed; measured"
    return _verdict(iv, lambda i: _in_band(i, -tolerance, tolerance), "paired t of the relative difference", what,
                    paired.notes)


def value(a: Values, target: float, tolerance: float) -> Verdict:
    """The claim "a = target +- tolerance": reproduced when a's interval lies inside the band."""
    if not tolerance >= 0:
        raise GanlabError(f"tolerance {tolerance} is negative or NaN: give a tolerance >= 0")
    paired = _pair([a])
    iv = interval(paired.columns[0])
    band = (target - tolerance, target + tolerance)
    what = f"mean vs {_fmt(target)} +- {_fmt(tolerance)} [{_fmt(band[0])}, {_fmt(band[1])}] claimed; measured"
    return _verdict(iv, lambda i: _in_band(i, *band), "one-sample t", what, paired.notes)


def compare(a: Values, target: float, claim: str) -> Verdict:
    """The claim "a > target" (claim ">") or "a < target" ("<"): reproduced when a's interval lies on that side."""
    if math.isnan(target):
        raise GanlabError("compare needs a target (the value a is claimed above or below)")
    paired = _pair([a])
    iv = interval(paired.columns[0])
    what = f"mean {claim.rstrip('0')} {_fmt(target)} claimed; measured"
    return _verdict(iv, lambda i: _side_of_zero(Interval(i.mean - target, i.low - target, i.high - target, i.n), claim),
                    "one-sample t", what, paired.notes)


def away(points: Mapping[Hashable, Values], target: float, tolerance: float) -> Verdict:
    """The claim "every point stays away from target": each point's interval entirely outside target +- tolerance.
    Not reproduced when some point's interval lies inside the band; measured is the point nearest the target."""
    if not points or not tolerance >= 0:
        raise GanlabError(f"away needs at least one point and a tolerance >= 0, got {len(points)} and {tolerance}")
    band = (target - tolerance, target + tolerance)
    per_point = {}
    for key, values in points.items():
        paired = _pair([values])
        iv = interval(paired.columns[0])
        per_point[key] = _verdict(iv, lambda i: _OPPOSITE.get(_in_band(i, *band), INCONCLUSIVE), "one-sample t",
                                  f"{key}: mean", paired.notes)
    nearest = min(per_point, key=lambda k: math.inf if math.isnan(per_point[k].measured)
                  else abs(per_point[k].measured - target))
    near = [str(k) for k, v in per_point.items() if v.verdict == NOT_REPRODUCED]
    detail = [f"outside {_fmt(band[0])}..{_fmt(band[1])} claimed for every point; nearest: {per_point[nearest].detail}",
              f"{sum(v.verdict == REPRODUCED for v in per_point.values())} of {len(per_point)} points away"]
    detail += [f"inside the band: {', '.join(near)}"] if near else []
    return _combined(per_point[nearest], per_point, f"one-sample t per point, {_LEVEL_TEXT}", detail)


def _weakest(pairs: Mapping[Hashable, Verdict], claim: str) -> Hashable:
    """The pair whose mean difference is least on the claimed side (NaN means count as weakest of all)."""
    sign = _sign(claim)
    return min(pairs, key=lambda k: -math.inf if math.isnan(pairs[k].measured) else sign * pairs[k].measured)


def _combine(verdicts: Sequence[Optional[str]]) -> str:
    """Any pair against the claim refutes it; all pairs for it reproduce it; too few seeds decide nothing."""
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    if TOO_FEW_SEEDS in verdicts:
        return TOO_FEW_SEEDS
    return REPRODUCED if all(v == REPRODUCED for v in verdicts) else INCONCLUSIVE


def _combined(shown: Verdict, parts: Mapping[Hashable, Verdict], test: str, detail: list[str]) -> Verdict:
    """The verdict of several pairs or points (``_combine``), with ``shown``'s numbers. An inconclusive one leans
    where its parts' verdicts and leanings combine, and needs the seeds that get it there: one part leaning
    against the claim suffices (the fewest), every part leaning for it must get there (the most)."""
    verdict = _combine([v.verdict for v in parts.values()])
    needed = toward = None
    if verdict == INCONCLUSIVE:
        toward = _combine([v.heading for v in parts.values()])
        needs = [v.seeds_to_decide for v in parts.values() if v.verdict == INCONCLUSIVE and v.leaning == toward]
        if toward == NOT_REPRODUCED:
            needed = min((n for n in needs if n is not None), default=None)
        elif toward == REPRODUCED and needs and None not in needs:
            needed = max(needs)
        detail = [*detail, f"all parts: {_projection_text(needed)}"]
    return replace(shown, verdict=verdict, test=test, detail="; ".join(detail), seeds_to_decide=needed,
                   leaning=toward if toward in (REPRODUCED, NOT_REPRODUCED) else None)


def all_directions(ref: Values, others: Mapping[Hashable, Values], claim: str) -> Verdict:
    """The claim "ref - other > 0" (or "< 0") for every other point; measured is the weakest pair's."""
    if not others:
        raise GanlabError("all_directions needs at least one other point to compare the reference with")
    pairs = {key: _direction(ref, other, claim, f"ref - {key}") for key, other in others.items()}
    weakest = pairs[_weakest(pairs, claim)]
    against = [str(k) for k, v in pairs.items() if v.verdict == NOT_REPRODUCED]
    counts = f"{sum(v.verdict == REPRODUCED for v in pairs.values())} of {len(pairs)} pairs as claimed"
    detail = [f"weakest pair: {weakest.detail}", counts] + ([f"against the claim: {', '.join(against)}"] if against
                                                            else [])
    return _combined(weakest, pairs, f"paired t per pair, {_LEVEL_TEXT}, n={weakest.seeds}", detail)


def best(points: Mapping[Hashable, Values], *, expected: Hashable, lower_is_better: bool = True) -> Verdict:
    """The claim "expected has the best mean, and its paired interval against the runner-up excludes 0".

    Points are ranked on the seeds common to all of them. Measured is mean(expected - rival), where the
    rival is the runner-up when expected ranks first, else the point that does: not reproduced only when
    that point beats expected with an interval excluding 0.
    """
    if expected not in points or len(points) < 2:
        raise GanlabError(f"best needs at least two points including the expected one {expected!r}")
    keys = list(points)
    paired = _pair([points[k] for k in keys])
    columns = dict(zip(keys, paired.columns))
    means = {k: float(c.mean()) if c.size else math.nan for k, c in columns.items()}
    ranked = sorted(keys, key=lambda k: means[k] if lower_is_better else -means[k])
    rival = ranked[1] if ranked[0] == expected else ranked[0]
    claim = "<" if lower_is_better else ">"
    iv = interval(columns[expected] - columns[rival])
    ranking = "ranking (best first): " + ", ".join(f"{k} {_fmt(means[k])}" for k in ranked)
    return _verdict(iv, lambda i: _side_of_zero(i, claim), "paired t vs rival",
                    f"mean({expected} - {rival}) {claim} 0 claimed; measured", [ranking, *paired.notes])


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho of y against x; 0 when y is constant (no trend)."""
    ry = stats.rankdata(y)
    if np.ptp(ry) == 0:
        return 0.0
    return float(np.corrcoef(stats.rankdata(x), ry)[0, 1])


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    """The least-squares slope of y against x."""
    dx = x - x.mean()
    return float(dx @ (y - y.mean()) / (dx @ dx))


def _per_seed(xs_to_points: Mapping[float, Values],
              statistic: Callable[[np.ndarray, np.ndarray], float]) -> tuple[np.ndarray, _Paired]:
    """The statistic of the metric against x for each seed measured (finitely) at every x."""
    xs = sorted(xs_to_points)
    if len(xs) < 2:
        raise GanlabError(f"a trend needs at least two x values, got {len(xs)}")
    paired = _pair([xs_to_points[x] for x in xs])
    x = np.asarray(xs, dtype=float)
    table = np.stack(paired.columns, axis=1)
    return np.array([statistic(x, row) for row in table]), paired


def trend(xs_to_points: Mapping[float, Values], claim: str) -> Verdict:
    """The claim "the metric rises (claim '>0') or falls ('<0') with x": per-seed Spearman rho, t over seeds."""
    rhos, paired = _per_seed(xs_to_points, _spearman)
    iv = interval(rhos)
    return _verdict(iv, lambda i: _side_of_zero(i, claim), "Spearman rho per seed, t over seeds",
                    f"mean rho over {len(xs_to_points)} x {claim.rstrip('0')} 0 claimed; measured", paired.notes)


def flat(xs_to_points: Mapping[float, Values], margin: float) -> Verdict:
    """The claim "the metric levels off": per-seed least-squares slope, its interval inside [-margin, margin]."""
    if not margin >= 0:
        raise GanlabError(f"margin {margin} is negative or NaN: give a margin >= 0")
    slopes, paired = _per_seed(xs_to_points, _slope)
    iv = interval(slopes)
    return _verdict(iv, lambda i: _in_band(i, -margin, margin), "least-squares slope per seed, t over seeds",
                    f"mean slope within +-{_fmt(margin)} claimed; measured", paired.notes)


def settled(verdicts_over_training: Sequence[Verdict], require_two: bool = True) -> Verdict:
    """The last verdict if it equals the one before; else the last marked STILL_CHANGING with the history.

    A single measurement cannot show it has settled: marked STILL_CHANGING when require_two, else returned.
    A change between a decided measurement and an inconclusive one whose mean points the same way may be settled
    by seeds: the STILL_CHANGING verdict then carries the seeds that would decide the inconclusive one
    (``seeds_to_decide``); otherwise none, as more training, not more seeds, is what it lacks.
    """
    if not verdicts_over_training:
        raise GanlabError("settled needs at least one verdict")
    last = verdicts_over_training[-1]
    if len(verdicts_over_training) == 1:
        if not require_two:
            return last
        return replace(last, verdict=STILL_CHANGING, seeds_to_decide=None, leaning=None,
                       detail=f"one measurement ({last.verdict}), so not known to be settled; {last.detail}")
    if last.verdict == verdicts_over_training[-2].verdict:
        return last
    history = " -> ".join(v.verdict for v in verdicts_over_training)
    needed = _seeds_to_settle(verdicts_over_training[-2:])
    settle = f"; about {needed} seeds would settle it with {POWER * 100:g} % chance" if needed else ""
    return replace(last, verdict=STILL_CHANGING, seeds_to_decide=needed, leaning=None,
                   detail=f"changed over the measurements: {history}{settle}; last: {last.detail}")


def _seeds_to_settle(last_two: Sequence[Verdict]) -> Optional[int]:
    """The seeds that would give the last two measurements one decided verdict, if their means and spreads held:
    those the inconclusive one needs, where its mean points to the other's verdict; else None."""
    targets = {v.heading for v in last_two}
    if len(targets) != 1 or not targets <= {REPRODUCED, NOT_REPRODUCED}:
        return None
    needs = [v.seeds_to_decide for v in last_two if v.verdict == INCONCLUSIVE]
    return max(needs) if needs and None not in needs else None
