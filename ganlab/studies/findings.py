"""A study's findings: each a claim of the report, decided from a sweep step's points into a verdict.

A finding in a study file::

    findings:
      - id: R0-F2
        claim: z = 0 gives the worst images
        report: "Fig. 1: FID highest at z = 0"
        step: latent                  # the sweep step whose points it reads
        metric: cfd                   # an evaluation during training (cfd -> cfd2k_test), or a results column
        rule: all_directions          # a rule of ganlab.studies.verdicts (RULES) | not_measured (its note says why)
        ref: {z_dim: 0}               # the points a rule compares, by their swept values (or min / max)
        expect: ">"                   # ref - every other point > 0

Each point is measured along its training (every evaluation during training, ``eval.every`` or
``eval.every_steps``); the finding is decided at each of its measurements in the second half of training, and
counts as decided only when the last two agree (``verdicts.settled``): otherwise *inconclusive (still
changing)*, and ``budget`` says what would settle it. Comparisons are paired by seed, with the Student-t
interval of ``ganlab.studies.verdicts``. A trend or flat rule with ``x: training`` reads one point (``a``) along
its own training instead, from ``after`` (a fraction of the training) on, decided once over those measurements.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Optional, Sequence

import numpy as np

from ganlab.errors import GanlabError
from ganlab.folders import RunDir, StudyDir, matches_values, resolve_extremes
from ganlab.io import atomic_write_json, atomic_write_text
from ganlab.metrics.names import protocol_name
from ganlab.studies import verdicts
from ganlab.studies.verdicts import Values, Verdict
from ganlab.sweeps.results import read_results
from ganlab.training.metrics_log import read_metrics

ALONG_TRAINING = "training"  # x of a trend or flat rule read along one point's training instead of across points
RULES = ("direction", "similar", "value", "compare", "away", "all_directions", "best", "trend", "flat", "not_measured")
Cell = tuple[tuple[str, Any], ...]  # a point's swept values (seeds aside), as sorted (key, value) pairs


def cell_of(point: dict[str, Any]) -> Cell:
    """The cell of a sweep's point entry (its ``values``; seeds aside)."""
    return tuple(sorted(point.get("values", {}).items()))


@dataclass
class Finding:
    id: str  # the finding's id in the findings list (R0-F2)
    claim: str  # the claim in one line
    report: str  # the report's value, and where it stands
    rule: str  # one of RULES
    step: str | list[str] = ""  # the sweep step whose points it reads, or several (their points side by side)
    metric: str = ""  # an evaluation in training (cfd, cfd2k_test), a training log column (d_real), a results column
    a: dict[str, Any] = field(default_factory=dict)  # direction, similar, value, compare: the point (key -> value)
    b: dict[str, Any] = field(default_factory=dict)  # direction, similar: the point a is compared with
    ref: dict[str, Any] = field(default_factory=dict)  # all_directions: the point every other is compared with
    expected: dict[str, Any] = field(default_factory=dict)  # best: the point claimed best
    among: dict[str, list[Any]] = field(default_factory=dict)  # the points taking part (key -> values); {} = all
    expect: str = ">"  # direction, all_directions: the sign claimed of a - b; compare: of a - target; trend: of rho
    target: float = math.nan  # value: the value claimed; compare: a is claimed above/below it; away: stayed away from
    tolerance: float = math.nan  # value, away: the band around target; similar: the relative difference (0.15)
    x: str = ""  # trend, flat: the swept key along which the metric is read, or "training" (one point, a, over time)
    after: float = 0.5  # x: training: the part of training read, from this fraction of it on
    margin: float = math.nan  # flat: the largest slope (metric per unit of x) that counts as level
    lower_is_better: bool = True  # best: the metric's direction
    classes: list[int] = field(default_factory=list)  # a per-class metric (acc): these classes' mean minus the rest's
    minus: str = ""  # a metric of the same evaluations subtracted from metric (fid minus floor: the gap to the floor)
    only: list[str] = field(default_factory=list)  # the scales that measure it ([] = all); at others, not measured
    budget: str = ""  # what training would settle the finding when it is still changing
    note: str = ""  # where this study reads or tests the report differently

    def steps(self) -> list[str]:
        """The sweep steps it reads."""
        return [self.step] if isinstance(self.step, str) else list(self.step)


def load_findings(items: list[dict[str, Any]], where: str) -> list[Finding]:
    """Findings from a study file's ``findings:`` list, checked."""
    known = [f.name for f in fields(Finding)]
    found = []
    for i, item in enumerate(items):
        unknown = [k for k in item if k not in known]
        if unknown:
            raise GanlabError(f"finding {i + 1} of {where}: unknown field(s) {', '.join(unknown)}; known: "
                              f"{', '.join(known)}")
        try:
            finding = Finding(**item)
        except TypeError as e:
            raise GanlabError(f"finding {i + 1} of {where}: {e}; each needs id, claim, report, rule")
        finding.note, finding.budget = finding.note.strip(), finding.budget.strip()
        if finding.rule not in RULES:
            raise GanlabError(f"finding {finding.id} of {where}: rule {finding.rule!r} is not one of "
                              f"{', '.join(RULES)}")
        if finding.rule == "not_measured" and not finding.note:
            raise GanlabError(f"finding {finding.id} of {where}: rule not_measured needs a note saying why")
        if finding.rule != "not_measured" and not (finding.step and finding.metric):
            raise GanlabError(f"finding {finding.id} of {where}: rule {finding.rule} needs the step and the metric "
                              f"it reads")
        found.append(finding)
    ids = [f.id for f in found]
    if len(set(ids)) != len(ids):
        raise GanlabError(f"{where}: finding ids repeat ({ids}); give each finding its own id")
    return found


@dataclass
class Measured:
    """A sweep step's points: per cell (swept values), per measurement (iteration), per seed, the metric."""

    steps: list[int]  # the iterations measured, in order
    values: dict[Cell, dict[int, Values]]  # cell -> iteration -> {seed: value}
    column: str  # the metric's protocol name as logged

    def at(self, step: int, select: dict[str, Any], among: dict[str, list[Any]]) -> dict[Cell, Values]:
        """{cell: {seed: value}} at iteration ``step`` of the cells matching ``select`` and ``among`` (a value
        ``min`` or ``max`` is the smallest or largest value of that key swept)."""
        swept = [dict(cell) for cell in self.values]
        select = resolve_extremes(select, swept)
        among = {k: [resolve_extremes({k: v}, swept)[k] for v in values] for k, values in among.items()}
        return {cell: by_step.get(step, {}) for cell, by_step in self.values.items()
                if matches_values(dict(cell), select) and _among(dict(cell), among)}


def _among(values: dict[str, Any], among: dict[str, list[Any]]) -> bool:
    return all(any(matches_values(values, {key: v}) for v in allowed) for key, allowed in among.items())


def _class_contrast(record: dict[str, Any], classes: Sequence[int]) -> Optional[float]:
    """A per-class record's mean over ``classes`` minus its mean over the other classes (None without per_class)."""
    per_class = record.get("per_class")
    if not isinstance(per_class, list) or not per_class:
        return None
    if bad := [c for c in classes if not 0 <= c < len(per_class)]:
        raise GanlabError(f"classes {bad} out of range: the metric has classes 0..{len(per_class) - 1}")
    rest = [v for c, v in enumerate(per_class) if c not in classes]
    return float(np.mean([per_class[c] for c in classes]) - np.mean(rest))


def _evaluated(metrics: dict[str, Any], metric: str, classes: Sequence[int], minus: str
               ) -> Optional[tuple[str, float]]:
    """(column, value) of ``metric`` in one evaluation's metrics, less ``minus`` of the same evaluation when
    given; None when the evaluation lacks either."""
    name = protocol_name(metrics, metric)
    if name is None or metrics[name].get("value") is None:
        return None
    value = _class_contrast(metrics[name], classes) if classes else metrics[name]["value"]
    column = f"{name} of classes {','.join(map(str, classes))} minus the rest" if classes else name
    if value is None:
        return None
    if not minus:
        return column, float(value)
    other = protocol_name(metrics, minus)
    if other is None or metrics[other].get("value") is None:
        return None
    return f"{column} minus {other}", float(value) - float(metrics[other]["value"])


def measure(study: StudyDir, step: str, metric: str, classes: Sequence[int] = (), minus: str = "") -> Measured:
    """The metric of every point of a sweep step along its training (its evaluations during training or logged
    after it by ``ganlab eval --log``, or the training log's column of that name), or only at the end (the results
    table). With ``classes``, a per-class evaluation's mean over those classes minus over the rest; with ``minus``,
    less another metric of the same evaluation."""
    sweep = study.sweep(step)
    points = sweep.read_points()
    if not points:
        raise GanlabError(f"study step {step} holds no sweep points in {sweep.path}; run the study first")
    series: dict[Cell, dict[int, Values]] = defaultdict(lambda: defaultdict(dict))
    logged: dict[Cell, dict[int, Values]] = defaultdict(lambda: defaultdict(dict))  # a training log column
    columns: set[str] = set()
    for pid, entry in points.items():
        cell, seed = cell_of(entry), int(entry["seed"])
        for record in read_metrics(RunDir(sweep.run(pid).path).metrics):
            if "kind" not in record and isinstance(record.get(metric), (int, float)):
                logged[cell][int(record["step"])][seed] = float(record[metric])
            if record.get("kind") == "eval" and (found := _evaluated(record["metrics"], metric, classes, minus)):
                columns.add(found[0])
                series[cell][int(record["step"])][seed] = found[1]
    if len(columns) > 1:
        raise GanlabError(f"{metric!r} names several protocols in study step {step} ({', '.join(sorted(columns))}); "
                          f"name one as the finding's metric")
    column = next(iter(columns), None)
    if column is None and classes:
        raise GanlabError(f"no evaluation of study step {step} has {metric!r} per class; classes needs a per-class "
                          f"metric such as acc")
    if column is None and minus:
        raise GanlabError(f"no evaluation of study step {step} has both {metric!r} and {minus!r}; evaluate both "
                          f"together during training or after it (ganlab eval --log)")
    if column is None and logged:  # a column of the training log (d_real): every logged iteration
        column, series = metric, logged
    if column is None:  # not evaluated during training: the final results only
        for row in read_results(sweep.path):
            name = protocol_name(row, metric)
            if name is not None and row.get(name) is not None and row.get("state") == "finished":
                column = name
                cell = cell_of(points.get(row["point"], {}))
                series[cell][int(row.get("step") or 0)][int(row["seed"])] = float(row[name])
    if column is None:
        raise GanlabError(f"no point of study step {step} has the metric {metric!r}; evaluate it during training "
                          f"(eval.every, eval.metrics) or name a results column")
    steps = sorted({s for by_step in series.values() for s in by_step})
    return Measured(steps, {c: dict(v) for c, v in series.items()}, column)


def measure_steps(study: StudyDir, steps: list[str], metric: str, classes: Sequence[int] = (), minus: str = ""
                  ) -> Measured:
    """``measure`` over several sweep steps, their points side by side (each point's swept values must tell it
    apart from every other step's: a key one step sweeps and another fixes names no point of the other)."""
    parts = [measure(study, step, metric, classes, minus) for step in steps]
    if len(parts) == 1:
        return parts[0]
    values: dict[Cell, dict[int, Values]] = {}
    for step, part in zip(steps, parts):
        if clash := set(values) & set(part.values):
            raise GanlabError(f"steps {', '.join(steps)} both have the point {_label(next(iter(clash)))}; a finding "
                              f"reading several steps needs points that differ in their swept values")
        values.update(part.values)
    if len({p.column for p in parts}) != 1:
        raise GanlabError(f"steps {', '.join(steps)} measured {metric} differently "
                          f"({', '.join(p.column for p in parts)})")
    return Measured(sorted(set().union(*(p.steps for p in parts))), values, parts[0].column)


def _label(cell: Cell) -> str:
    return " ".join(f"{k.split('.')[-1]}={v}" for k, v in cell) or "all"


def _one(points: dict[Cell, Values], what: str, finding: Finding) -> tuple[Cell, Values]:
    """The one (cell, values) that ``what`` selects; refused when it selects none or several."""
    if len(points) != 1:
        listed = ", ".join(map(_label, points)) or "none"
        raise GanlabError(f"finding {finding.id}: {what} selects {len(points)} points ({listed}); name exactly one "
                          f"by its swept values")
    return next(iter(points.items()))


def _by_x(points: dict[Cell, Values], finding: Finding) -> dict[float, Values]:
    out = {}
    for cell, values in points.items():
        matched = [v for k, v in cell if k == finding.x or k.split(".")[-1] == finding.x]
        if len(matched) != 1:
            raise GanlabError(f"finding {finding.id}: x={finding.x!r} is not a swept key of {finding.step}")
        out[float(matched[0])] = values
    return out


def decide_at(finding: Finding, measured: Measured, step: int) -> Verdict:
    """The finding's verdict from the points' values at iteration ``step``."""
    pick: Callable[[dict[str, Any]], dict[Cell, Values]] = lambda select: measured.at(step, select, finding.among)  # noqa: E731
    rule = finding.rule
    if rule == "direction":
        return verdicts.direction(_one(pick(finding.a), "a", finding)[1], _one(pick(finding.b), "b", finding)[1],
                                  finding.expect)
    if rule == "similar":
        return verdicts.similar(_one(pick(finding.a), "a", finding)[1], _one(pick(finding.b), "b", finding)[1],
                                finding.tolerance)
    if rule == "value":
        return verdicts.value(_one(pick(finding.a), "a", finding)[1], finding.target, finding.tolerance)
    if rule == "compare":
        return verdicts.compare(_one(pick(finding.a), "a", finding)[1], finding.target, finding.expect)
    if rule == "away":
        return verdicts.away({_label(c): v for c, v in pick({}).items()}, finding.target, finding.tolerance)
    if rule == "all_directions":
        ref, ref_values = _one(pick(finding.ref), "ref", finding)
        others = {_label(c): v for c, v in pick({}).items() if c != ref}
        return verdicts.all_directions(ref_values, others, finding.expect)
    if rule == "best":
        points = {_label(c): v for c, v in pick({}).items()}
        expected = _label(_one(pick(finding.expected), "expected", finding)[0])
        return verdicts.best(points, expected=expected, lower_is_better=finding.lower_is_better)
    if rule == "trend":
        return verdicts.trend(_by_x(pick({}), finding), finding.expect)
    return verdicts.flat(_by_x(pick({}), finding), finding.margin)


def along_training(finding: Finding, measured: Measured) -> tuple[int, Verdict]:
    """A trend or flat rule over one point's own measurements from the fraction ``after`` of its training on, x
    being the fraction of its training done (so a flat margin is a change of the metric per whole training);
    returns the point's last iteration and the verdict. Points of a sweep may train for different numbers of
    iterations (9 D steps per G step make fewer): each is read over its own."""
    if finding.rule not in ("trend", "flat"):
        raise GanlabError(f"finding {finding.id}: x: {ALONG_TRAINING} works with the trend and flat rules, not "
                          f"{finding.rule}")
    cell, _ = _one(measured.at(measured.steps[-1], finding.a, finding.among), "a", finding)
    own = measured.values[cell]
    steps = sorted(own)
    read = [s for s in steps if s >= finding.after * steps[-1]]
    if len(read) < 2:  # e.g. a tiny scale's one evaluation: nothing to read a trend from yet
        return read[-1], verdicts.Verdict(verdicts.STILL_CHANGING, math.nan, math.nan, math.nan, 0, "none",
                                          f"{len(read)} measurement(s) in the part of training read; a {finding.rule} "
                                          f"over training needs at least two (evaluate more often: eval.every or "
                                          f"eval.every_steps)")
    xs = {s / steps[-1]: own[s] for s in read}
    if finding.rule == "trend":
        return read[-1], verdicts.trend(xs, finding.expect)
    return read[-1], verdicts.flat(xs, finding.margin)


def _not_measured(finding: Finding, why: str) -> dict[str, Any]:
    return {"id": finding.id, "claim": finding.claim, "report": finding.report, "verdict": verdicts.NOT_MEASURED,
            "measured": None, "ci_low": None, "ci_high": None, "seeds": 0, "test": "none", "detail": why,
            "metric": "", "step": "", "rule": "not_measured", "measurements": []}


def decide(finding: Finding, study: StudyDir, scale: str = "") -> dict[str, Any]:
    """The finding's row: its verdict settled over the measurements in the second half of training (not measured
    at a ``scale`` its ``only`` leaves out)."""
    if finding.rule == "not_measured":
        return _not_measured(finding, finding.note)
    if scale and finding.only and scale not in finding.only:
        return _not_measured(finding, f"measured at the {', '.join(finding.only)} scale(s), not the {scale} scale"
                                      + (f"; {finding.note}" if finding.note else ""))
    measured = measure_steps(study, finding.steps(), finding.metric, finding.classes, finding.minus)
    if finding.x == ALONG_TRAINING:  # read over the training itself: one verdict, at its last measurement
        last, verdict = along_training(finding, measured)
        history = [(last, verdict)]
    else:
        late = [s for s in measured.steps if s * 2 >= measured.steps[-1]] or measured.steps[-1:]
        history = [(s, decide_at(finding, measured, s)) for s in late]
        verdict = verdicts.settled([v for _, v in history])
    row = {"id": finding.id, "claim": finding.claim, "report": finding.report, **verdict.to_dict(),
           "metric": measured.column, "step": finding.step, "rule": finding.rule,
           "measurements": [{"iteration": s, "verdict": v.verdict, "measured": v.to_dict()["measured"]}
                            for s, v in history]}
    if verdict.verdict == verdicts.STILL_CHANGING and finding.budget:
        which = "or training that" if verdict.seeds_to_decide else "what"
        row["detail"] += f"; {which} would settle it: {finding.budget}"
    if finding.note:
        row["note"] = finding.note
    return row


def _number(v: Any) -> str:
    return "" if v is None else f"{v:.4g}"


def measured_text(row: dict[str, Any]) -> str:
    """A finding row's measured value: mean [95 % interval] (metric), or "not measured"."""
    if row["measured"] is None:
        return "not measured"
    return f"{_number(row['measured'])} [{_number(row['ci_low'])}, {_number(row['ci_high'])}] ({row['metric']})"


def findings_table(rows: list[dict[str, Any]]) -> str:
    """findings.md: one table row per finding (id, claim, the report's value, measured mean [95 % CI], seeds,
    verdict), then each finding's test and detail."""
    lines = ["Verdicts on the report's findings (mean and 95 % interval over seeds, paired by seed)", "",
             "| finding | claim | report | measured [95 % CI] | seeds | verdict |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['id']} | {r['claim']} | {r['report']} | {measured_text(r)} | {r['seeds']} | "
                     f"{r['verdict']} |")
    lines.append("")
    lines += [f"- {r['id']}: {r['test']}; {r['detail']}" + (f" Note: {r['note']}" if r.get("note") else "")
              for r in rows if r["rule"] != "not_measured"]
    lines += [f"- {r['id']}: not measured: {r['detail']}" for r in rows if r["rule"] == "not_measured"]
    return "\n".join(lines) + "\n"


def write_findings(findings: list[Finding], study: StudyDir, scale: str = "") -> list[dict[str, Any]]:
    """Decide every finding from the study folder (at ``scale``); write findings.json and findings.md; return the
    rows."""
    rows = [decide(f, study, scale) for f in findings]
    atomic_write_json(study.findings_json, rows)
    atomic_write_text(study.findings_md, findings_table(rows))
    return rows
