"""Verdicts from per-seed values: each rule's three outcomes on synthetic numbers whose intervals are known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ganlab.errors import GanlabError
from ganlab.studies import verdicts as V


def ci(values) -> tuple[float, float, float]:
    """Mean and 95 % Student-t interval, computed here independently of the module."""
    x = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return x.mean(), x.mean() - half, x.mean() + half


def assert_interval(v: V.Verdict, values) -> None:
    mean, low, high = ci(values)
    assert (v.measured, v.ci_low, v.ci_high) == pytest.approx((mean, low, high))
    assert v.seeds == len(values)


def seeds(*values: float) -> dict[int, float]:
    return dict(enumerate(values))


# --- interval and Verdict ---------------------------------------------------------------------------------

def test_interval_matches_hand_computation_and_constants():
    # diffs 5, 6, 4: mean 5, sd 1, half = t(0.975, 2) / sqrt(3) = 4.3027 / 1.7321 = 2.484
    iv = V.interval([5, 6, 4])
    assert (iv.low, iv.high) == pytest.approx((5 - 2.4841, 5 + 2.4841), abs=1e-4)
    assert V.LEVEL == 0.95 and V.MIN_SEEDS == 3
    assert set(V.VERDICTS) == {"reproduced", "not reproduced", "inconclusive",
                               "inconclusive (still changing)", "inconclusive (too few seeds)",
                               "inconclusive (not measured)"}


def test_to_dict_has_the_fields_and_turns_nan_into_none():
    v = V.direction(seeds(1.0), seeds(0.0), ">")
    d = v.to_dict()
    assert set(d) == {"verdict", "measured", "ci_low", "ci_high", "seeds", "test", "detail", "seeds_to_decide",
                      "leaning"}
    assert d["ci_low"] is None and d["measured"] == 1.0 and d["seeds"] == 1


# --- direction --------------------------------------------------------------------------------------------

A = seeds(10, 12, 11)
B = seeds(5, 6, 7)  # a - b = 5, 6, 4


def test_direction_reproduced_with_the_hand_interval():
    v = V.direction(A, B, ">")
    assert v.verdict == V.REPRODUCED
    assert_interval(v, [5, 6, 4])
    assert v.test == "paired t, 95 %, n=3"


def test_direction_not_reproduced_when_the_interval_is_on_the_other_side():
    assert V.direction(A, B, "<").verdict == V.NOT_REPRODUCED


def test_direction_inconclusive_when_the_interval_spans_zero():
    v = V.direction(seeds(1, -1, 2), seeds(0, 0, 0), ">")
    assert v.verdict == V.INCONCLUSIVE
    assert_interval(v, [1, -1, 2])
    assert v.ci_low < 0 < v.ci_high


def projected_seeds(sd: float, distance: float) -> int:
    """The smallest n >= 3 with (t(0.975, n-1) + t(0.8, n-1)) sd / sqrt(n) below distance (a t test's sample size
    for 80 % power), by hand."""
    n = 3
    while (stats.t.ppf(0.975, n - 1) + stats.t.ppf(0.8, n - 1)) * sd / math.sqrt(n) >= distance:
        n += 1
    return n


def test_an_inconclusive_verdict_says_how_many_seeds_would_decide_it():
    values = [1, -1, 2, 1.5]  # mean 0.875, sd 1.3150
    v = V.direction(seeds(*values), seeds(0, 0, 0, 0), ">")
    assert v.verdict == V.INCONCLUSIVE
    expected = projected_seeds(float(np.std(values, ddof=1)), 0.875)
    assert v.seeds_to_decide == expected and 10 < expected < 40
    assert f"about {expected} seeds would decide it" in v.detail
    again = V.direction(seeds(*(values * 12)), seeds(*[0] * 48), ">")  # 48 seeds of the same mean and spread
    assert again.verdict == V.REPRODUCED and again.seeds_to_decide is None


def test_seeds_to_decide_clears_the_nearest_boundary_of_a_band_and_gives_up_on_a_zero_mean():
    v = V.value(seeds(0.9, 1.3, 1.1), 1.5, 0.5)  # mean 1.1, sd 0.2; band [1, 2]: the edge at 1 is 0.1 away
    assert v.verdict == V.INCONCLUSIVE and v.leaning == V.REPRODUCED
    assert v.seeds_to_decide == projected_seeds(0.2, 0.1)
    on_zero = V.direction(seeds(1, -1, 0), seeds(0, 0, 0), ">")  # the mean on the boundary: no number of seeds
    assert on_zero.seeds_to_decide is None and on_zero.leaning == V.INCONCLUSIVE
    assert V.direction(seeds(1, -1, 0.01), seeds(0, 0, 0), ">").seeds_to_decide is None  # mean 300x below spread
    assert V.seeds_to_decide(V.interval([1.0]), lambda iv: V.REPRODUCED) is None  # one seed: no spread to project
    assert V.direction(A, B, ">").seeds_to_decide is None  # decided: nothing to project
    against = V.direction(seeds(-1, 1, -2), seeds(0, 0, 0), ">")
    assert against.leaning == V.NOT_REPRODUCED and against.seeds_to_decide == projected_seeds(
        float(np.std([-1, 1, -2], ddof=1)), 2 / 3)


def test_a_change_between_a_decided_and_an_inconclusive_measurement_says_the_seeds_that_would_settle_it():
    decided = V.direction(A, B, ">")
    leaning_same = V.direction(seeds(1, -1, 2), seeds(0, 0, 0), ">")  # inconclusive, mean 0.67 > 0
    leaning_other = V.direction(seeds(-1, 1, -2), seeds(0, 0, 0), ">")
    settles = V.settled([leaning_same, decided])
    assert settles.verdict == V.STILL_CHANGING and settles.seeds_to_decide == leaning_same.seeds_to_decide
    assert f"about {leaning_same.seeds_to_decide} seeds would settle it" in settles.detail
    assert V.settled([leaning_other, decided]).seeds_to_decide is None  # more seeds would keep them apart
    assert V.settled([V.direction(A, B, "<"), decided]).seeds_to_decide is None  # decided both ways: training


def test_direction_pairs_by_seed_and_ignores_unpaired_seeds():
    a = {**A, 7: 1000.0}
    b = {**B, 9: -1000.0}
    v = V.direction(a, b, ">")
    assert v.verdict == V.REPRODUCED
    assert_interval(v, [5, 6, 4])
    assert "7, 9 unpaired" in v.detail
    # seed order does not matter, only the seed keys
    shuffled = {2: 11.0, 0: 10.0, 1: 12.0}
    assert V.direction(shuffled, B, ">").measured == pytest.approx(5)


def test_direction_too_few_seeds():
    v = V.direction(seeds(10, 12), seeds(5, 6), ">")
    assert v.verdict == V.TOO_FEW_SEEDS and v.seeds == 2
    assert "at least 3" in v.detail


def test_direction_zero_variance_decides_on_the_mean():
    v = V.direction(seeds(3, 4, 5), seeds(1, 2, 3), ">")
    assert v.verdict == V.REPRODUCED
    assert v.ci_low == v.ci_high == v.measured == 2
    tie = V.direction(seeds(3, 4, 5), seeds(3, 4, 5), ">")
    assert tie.verdict == V.INCONCLUSIVE and tie.ci_low == tie.ci_high == 0


def test_direction_drops_nan_seeds_and_says_so():
    v = V.direction({**A, 3: math.nan}, {**B, 3: 1.0}, ">")
    assert v.verdict == V.REPRODUCED
    assert_interval(v, [5, 6, 4])
    assert "3 dropped (NaN" in v.detail
    few = V.direction(seeds(10, 12, math.nan), B, ">")
    assert few.verdict == V.TOO_FEW_SEEDS and few.seeds == 2


def test_direction_rejects_an_unknown_claim():
    with pytest.raises(GanlabError):
        V.direction(A, B, ">=")


# --- value ------------------------------------------------------------------------------------------------

def test_value_reproduced_inside_the_band():
    v = V.value(seeds(40, 41, 39), target=40, tolerance=5)  # 40 +- 2.48 inside [35, 45]
    assert v.verdict == V.REPRODUCED
    assert_interval(v, [40, 41, 39])
    assert v.test == "one-sample t, 95 %, n=3"


def test_value_not_reproduced_outside_the_band():
    assert V.value(seeds(60, 61, 59), target=40, tolerance=5).verdict == V.NOT_REPRODUCED


def test_value_inconclusive_across_the_band_edge():
    v = V.value(seeds(44, 45, 46), target=40, tolerance=5)  # 45 +- 2.48 straddles 45
    assert v.verdict == V.INCONCLUSIVE


def test_value_too_few_seeds():
    assert V.value(seeds(40, 40), 40, 5).verdict == V.TOO_FEW_SEEDS


# --- compare ----------------------------------------------------------------------------------------------

def test_compare_decides_on_which_side_of_the_target_the_interval_lies():
    v = V.compare(seeds(0.30, 0.32, 0.28), target=0.1, claim=">")  # 0.30 +- 0.05 above 0.1
    assert v.verdict == V.REPRODUCED
    assert_interval(v, [0.30, 0.32, 0.28])
    assert V.compare(seeds(0.30, 0.32, 0.28), target=0.1, claim="<").verdict == V.NOT_REPRODUCED
    assert V.compare(seeds(0.05, 0.15, 0.10), target=0.1, claim=">").verdict == V.INCONCLUSIVE
    assert V.compare(seeds(0.3, 0.3), target=0.1, claim=">").verdict == V.TOO_FEW_SEEDS
    with pytest.raises(GanlabError, match="target"):
        V.compare(seeds(1, 2, 3), target=math.nan, claim=">")


# --- similar ----------------------------------------------------------------------------------------------

def test_similar_reproduced_when_the_relative_difference_stays_inside_the_tolerance():
    v = V.similar(seeds(44, 45, 46), seeds(45, 45, 45), tolerance=0.15)  # (a-b)/mean: -0.0225, 0, 0.0220
    assert v.verdict == V.REPRODUCED and v.test == "paired t of the relative difference, 95 %, n=3"
    assert_interval(v, [-1 / 44.5, 0.0, 1 / 45.5])


def test_similar_not_reproduced_when_a_differs_beyond_it_and_inconclusive_across_its_edge():
    assert V.similar(seeds(60, 61, 62), seeds(40, 40, 40), tolerance=0.15).verdict == V.NOT_REPRODUCED
    assert V.similar(seeds(40, 47, 54), seeds(40, 40, 40), tolerance=0.15).verdict == V.INCONCLUSIVE
    with pytest.raises(GanlabError, match="tolerance -1 is negative"):
        V.similar(seeds(1, 1, 1), seeds(1, 1, 1), -1)


# --- away -------------------------------------------------------------------------------------------------

def test_away_reproduced_when_every_point_stays_outside_the_band():
    v = V.away({"a": seeds(0.9, 0.91, 0.89), "b": seeds(0.7, 0.71, 0.69)}, target=0.5, tolerance=0.05)
    assert v.verdict == V.REPRODUCED and v.measured == pytest.approx(0.7)  # the nearest point, b
    assert "2 of 2 points away" in v.detail


def test_away_not_reproduced_when_one_point_sits_inside_and_inconclusive_across_the_edge():
    inside = V.away({"a": seeds(0.9, 0.91, 0.89), "b": seeds(0.5, 0.51, 0.49)}, target=0.5, tolerance=0.05)
    assert inside.verdict == V.NOT_REPRODUCED and "inside the band: b" in inside.detail
    edge = V.away({"a": seeds(0.9, 0.91, 0.89), "b": seeds(0.5, 0.6, 0.7)}, target=0.5, tolerance=0.05)
    assert edge.verdict == V.INCONCLUSIVE


# --- all_directions ---------------------------------------------------------------------------------------

REF = seeds(50, 52, 51)
FAR = seeds(30, 31, 29)    # ref - far = 20, 21, 22
NEAR = seeds(45, 46, 47)   # ref - near = 5, 6, 4


def test_all_directions_reproduced_reports_the_weakest_pair():
    v = V.all_directions(REF, {8: FAR, 16: NEAR}, ">")
    assert v.verdict == V.REPRODUCED
    assert_interval(v, [5, 6, 4])
    assert "ref - 16" in v.detail and "2 of 2" in v.detail


def test_all_directions_not_reproduced_when_one_pair_is_against():
    worse = seeds(55, 58, 55)  # ref - worse = -5, -6, -4
    v = V.all_directions(REF, {8: FAR, 16: NEAR, 32: worse}, ">")
    assert v.verdict == V.NOT_REPRODUCED
    assert v.measured == pytest.approx(-5)
    assert "against the claim: 32" in v.detail


def test_all_directions_inconclusive_when_one_pair_spans_zero():
    close = seeds(49, 53, 49)  # ref - close = 1, -1, 2
    v = V.all_directions(REF, {8: FAR, 16: close}, ">")
    assert v.verdict == V.INCONCLUSIVE
    assert_interval(v, [1, -1, 2])
    assert v.seeds_to_decide == projected_seeds(float(np.std([1, -1, 2], ddof=1)), 2 / 3)
    assert "all parts: about" in v.detail and v.leaning == V.REPRODUCED
    against = seeds(51, 51, 53)  # ref - against = -1, 1, -2: inconclusive, leaning against the claim
    both = V.all_directions(REF, {16: close, 32: against}, ">")
    assert both.verdict == V.INCONCLUSIVE and both.leaning == V.NOT_REPRODUCED
    assert both.seeds_to_decide == projected_seeds(float(np.std([-1, 1, -2], ddof=1)), 2 / 3)  # the one against


def test_all_directions_weakest_for_a_less_than_claim_is_the_largest_difference():
    v = V.all_directions(FAR, {"a": REF, "b": NEAR}, "<")  # far - ref = -20..; far - near = -15, -15, -18
    assert v.verdict == V.REPRODUCED
    assert_interval(v, [-15, -15, -18])


def test_all_directions_too_few_seeds_in_any_pair():
    v = V.all_directions(REF, {8: FAR, 16: seeds(45, 46)}, ">")
    assert v.verdict == V.TOO_FEW_SEEDS


# --- best -------------------------------------------------------------------------------------------------

TABLE = {"100/100/100": seeds(24, 25, 24.5), "16/100/100": seeds(33, 34, 35), "16/16/16": seeds(110, 112, 115)}


def test_best_reproduced_against_the_runner_up():
    v = V.best(TABLE, expected="100/100/100")
    assert v.verdict == V.REPRODUCED
    assert_interval(v, [24 - 33, 25 - 34, 24.5 - 35])
    assert v.test == "paired t vs rival, 95 %, n=3"
    assert "16/100/100" in v.detail


def test_best_not_reproduced_when_another_point_is_clearly_best():
    v = V.best(TABLE, expected="16/100/100")
    assert v.verdict == V.NOT_REPRODUCED
    assert_interval(v, [33 - 24, 34 - 25, 35 - 24.5])


def test_best_inconclusive_when_the_runner_up_is_within_noise():
    points = {"x": seeds(24, 30, 24), "y": seeds(25, 26, 27)}  # x - y = -1, 4, -3
    assert V.best(points, expected="x").verdict == V.INCONCLUSIVE
    assert V.best(points, expected="y").verdict == V.INCONCLUSIVE


def test_best_when_higher_is_better():
    v = V.best(TABLE, expected="16/16/16", lower_is_better=False)
    assert v.verdict == V.REPRODUCED
    assert_interval(v, [110 - 33, 112 - 34, 115 - 35])
    assert V.best(TABLE, expected="100/100/100", lower_is_better=False).verdict == V.NOT_REPRODUCED


def test_best_ranks_on_shared_seeds_only():
    points = {"x": {0: 1.0, 1: 2.0, 2: 3.0, 5: -100.0}, "y": {0: 2.0, 1: 3.5, 2: 4.0}}
    v = V.best(points, expected="x")
    assert v.verdict == V.REPRODUCED and v.seeds == 3
    assert "5 unpaired" in v.detail


def test_best_rejects_an_unknown_expected_point():
    with pytest.raises(GanlabError):
        V.best(TABLE, expected="nope")


# --- trend ------------------------------------------------------------------------------------------------

def falling(*swaps: int) -> list[float]:
    """A falling curve at x = 0, 2, 4, 8; each index i in swaps exchanges values i and i + 1."""
    y = [40.0, 30.0, 25.0, 20.0]
    for i in swaps:
        y[i], y[i + 1] = y[i + 1], y[i]
    return y


def curves(*per_seed: list[float]) -> dict[float, dict[int, float]]:
    xs = [0, 2, 4, 8]
    return {x: {seed: ys[i] for seed, ys in enumerate(per_seed)} for i, x in enumerate(xs)}


def test_trend_reproduced_with_hand_spearman_values():
    # one swap of neighbours among 4 ranks: rho = 1 - 6 * 2 / (4 * 15) = 0.8, so -0.8 for a falling curve
    v = V.trend(curves(falling(), falling(), falling(1)), "<0")
    assert v.verdict == V.REPRODUCED
    assert_interval(v, [-1, -1, -0.8])
    assert v.test.startswith("Spearman rho per seed")


def test_trend_not_reproduced_when_the_metric_moves_the_other_way():
    v = V.trend(curves(falling(), falling(), falling()), ">0")
    assert v.verdict == V.NOT_REPRODUCED
    assert v.ci_low == v.ci_high == -1  # zero variance: every seed has rho = -1


def test_trend_inconclusive_when_seeds_disagree():
    v = V.trend(curves(falling(), falling()[::-1], falling()), "<0")
    assert v.verdict == V.INCONCLUSIVE
    assert_interval(v, [-1, 1, -1])


def test_trend_uses_seeds_measured_at_every_x():
    points = curves(falling(), falling(), falling(1), [1.0, 2.0, 3.0, 4.0])
    points[4][3] = math.nan  # seed 3 (a rising curve) has a NaN at x = 4
    v = V.trend(points, "<0")
    assert v.verdict == V.REPRODUCED and v.seeds == 3
    assert "3 dropped (NaN" in v.detail


# --- flat -------------------------------------------------------------------------------------------------

def lines(*slopes: float) -> dict[float, dict[int, float]]:
    return {x: {seed: 20.0 + s * x for seed, s in enumerate(slopes)} for x in (25, 30, 35, 40)}


def test_flat_reproduced_inside_the_margin():
    v = V.flat(lines(0.01, -0.01, 0.0), margin=0.05)  # 0 +- 4.303 * 0.01 / sqrt(3) = +-0.0248
    assert v.verdict == V.REPRODUCED
    assert_interval(v, [0.01, -0.01, 0.0])
    assert v.test.startswith("least-squares slope per seed")


def test_flat_inconclusive_when_the_interval_crosses_the_margin():
    assert V.flat(lines(0.01, -0.01, 0.0), margin=0.01).verdict == V.INCONCLUSIVE


def test_flat_not_reproduced_when_still_falling():
    v = V.flat(lines(-1.0, -1.1, -0.9), margin=0.1)
    assert v.verdict == V.NOT_REPRODUCED
    assert_interval(v, [-1.0, -1.1, -0.9])


def test_flat_zero_variance_and_too_few_seeds():
    v = V.flat(lines(0.0, 0.0, 0.0), margin=0.0)
    assert v.verdict == V.REPRODUCED and v.ci_low == v.ci_high == 0
    assert V.flat(lines(0.0, 0.0), margin=1).verdict == V.TOO_FEW_SEEDS


# --- settled ----------------------------------------------------------------------------------------------

def made(verdict: str, measured: float = 1.0) -> V.Verdict:
    return V.Verdict(verdict, measured, 0.5, 1.5, 3, "paired t, 95 %, n=3", f"at {measured}")


def test_settled_returns_the_last_when_it_repeats():
    history = [made(V.NOT_REPRODUCED, 1), made(V.REPRODUCED, 2), made(V.REPRODUCED, 3)]
    assert V.settled(history) is history[-1]


def test_settled_marks_a_change_still_changing_with_the_history():
    history = [made(V.REPRODUCED, 1), made(V.REPRODUCED, 2), made(V.INCONCLUSIVE, 3)]
    v = V.settled(history)
    assert v.verdict == V.STILL_CHANGING
    assert "reproduced -> reproduced -> inconclusive" in v.detail and "at 3" in v.detail
    assert (v.measured, v.ci_low, v.ci_high, v.seeds) == (3, 0.5, 1.5, 3)


def test_settled_single_measurement_depends_on_require_two():
    one = [made(V.REPRODUCED)]
    v = V.settled(one)
    assert v.verdict == V.STILL_CHANGING and "one measurement" in v.detail
    assert V.settled(one, require_two=False) is one[0]


def test_settled_needs_a_verdict():
    with pytest.raises(GanlabError):
        V.settled([])
