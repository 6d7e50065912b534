"""Findings decided from a sweep folder's points: values along training read from each point's evaluations,
paired by seed, settled over the last two measurements; findings.md and findings.json written."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from ganlab.errors import GanlabError
from ganlab.folders import RunDir, StudyDir
from ganlab.io import atomic_write_json
from ganlab.studies import verdicts
from ganlab.studies.findings import along_training, load_findings, measure, measure_steps, write_findings
from ganlab.studies.spec import load_study

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import fid_agrees  # noqa: E402
import longer_budget  # noqa: E402
import more_seeds  # noqa: E402

STEPS = (50, 75, 100)  # the iterations each point was evaluated at


def _sweep(study: StudyDir, metric: dict[tuple[int, int], list[float]], step: str = "latent",
           key: str = "model.z_dim") -> None:
    """A sweep step (default 'latent') whose point (z, seed) logged ``metric[(z, seed)]`` at STEPS (cfd100_test)."""
    sweep = study.sweep(step)
    points = {}
    for (z, seed), values in metric.items():
        pid = f"{key.split('.')[-1]}={z}_seed={seed}"
        points[pid] = {"state": "finished", "run_dir": sweep.relative_run(pid), "values": {key: z}, "seed": seed}
        log = RunDir(sweep.run(pid).path).metrics
        log.parent.mkdir(parents=True)
        log.write_text("".join(json.dumps({"kind": "eval", "step": s, "epoch": s / 25,
                                           "metrics": {"cfd100_test": {"value": v}}}) + "\n"
                               for s, v in zip(STEPS, values)))
    atomic_write_json(sweep.status, {"points": points})


def _findings(*items: dict) -> list:
    base = {"claim": "c", "report": "r", "step": "latent", "metric": "cfd"}
    return load_findings([{**base, **item} for item in items], "test")


def test_metric_is_read_along_training_per_cell_and_seed(tmp_path):
    study = StudyDir(tmp_path)
    _sweep(study, {(0, 0): [9, 8, 7], (0, 1): [9, 8, 7.5]})
    measured = measure(study, "latent", "cfd")
    assert measured.steps == list(STEPS) and measured.column == "cfd100_test"
    assert measured.values[(("model.z_dim", 0),)][75] == {0: 8.0, 1: 8.0}


def test_verdicts_reproduced_not_reproduced_inconclusive_and_still_changing(tmp_path):
    study = StudyDir(tmp_path)
    seeds = range(4)
    _sweep(study, {**{(0, s): [30 + s, 29 + s, 28 + s] for s in seeds},      # z = 0 worst, clearly
                   **{(8, s): [20 + s, 18 + s, 17 + s] for s in seeds},
                   **{(64, s): [20 + s + d, 18 + s + d, 17 + s + d]  # z = 8 give or take: no direction
                      for s, d in zip(seeds, (1, -1, 2, -2))}})
    rows = write_findings(_findings(
        {"id": "worst", "rule": "all_directions", "ref": {"z_dim": 0}, "expect": ">"},
        {"id": "wrong-way", "rule": "direction", "a": {"z_dim": 8}, "b": {"z_dim": 0}, "expect": ">"},
        {"id": "noisy", "rule": "direction", "a": {"z_dim": 64}, "b": {"z_dim": 8}, "expect": "<"},
        {"id": "falls", "rule": "trend", "x": "z_dim", "expect": "<0", "among": {"z_dim": [0, 8]}},
        {"id": "value", "rule": "value", "a": {"z_dim": 8}, "target": 19, "tolerance": 3}), study)
    by_id = {r["id"]: r for r in rows}
    assert by_id["worst"]["verdict"] == verdicts.REPRODUCED and by_id["worst"]["seeds"] == 4
    assert by_id["wrong-way"]["verdict"] == verdicts.NOT_REPRODUCED
    assert by_id["noisy"]["verdict"] == verdicts.INCONCLUSIVE
    assert by_id["falls"]["verdict"] == verdicts.REPRODUCED
    # z = 8: 19.5 [17.45, 21.55] at iteration 75, 18.5 [16.45, 20.55] at 100: both inside 19 +- 3, settled
    assert by_id["value"]["verdict"] == verdicts.REPRODUCED
    assert [m["iteration"] for m in by_id["worst"]["measurements"]] == [50, 75, 100]
    assert json.loads(study.findings_json.read_text()) == rows
    table = study.findings_md.read_text()
    assert "| worst | c | r | 11 [" in table and table.count("| reproduced |") == 3  # weakest pair: 28 - 17


def test_a_verdict_that_flips_between_the_last_two_measurements_is_still_changing(tmp_path):
    study = StudyDir(tmp_path)
    _sweep(study, {**{(0, s): [30, 30, 10 + s] for s in range(3)}, **{(8, s): [20, 20, 20 + s] for s in range(3)}})
    row, = write_findings(_findings({"id": "flip", "rule": "direction", "a": {"z_dim": 0}, "b": {"z_dim": 8},
                                     "expect": ">", "budget": "twice the epochs"}), study)
    assert row["verdict"] == verdicts.STILL_CHANGING and "would settle it: twice the epochs" in row["detail"]


def test_too_few_seeds_and_bad_findings_are_said(tmp_path):
    study = StudyDir(tmp_path)
    _sweep(study, {(0, 0): [3, 2, 1], (8, 0): [1, 1, 1], (0, 1): [3, 2, 1], (8, 1): [1, 1, 1]})
    row, = write_findings(_findings({"id": "two", "rule": "direction", "a": {"z_dim": 0}, "b": {"z_dim": 8}}), study)
    assert row["verdict"] == verdicts.STILL_CHANGING or row["verdict"] == verdicts.TOO_FEW_SEEDS
    assert row["measurements"][-1]["verdict"] == verdicts.TOO_FEW_SEEDS
    with pytest.raises(GanlabError, match="rule 'bigger' is not one of"):
        _findings({"id": "x", "rule": "bigger"})
    with pytest.raises(GanlabError, match="a selects 0 points"):
        write_findings(_findings({"id": "x", "rule": "direction", "a": {"z_dim": 3}, "b": {"z_dim": 8}}), study)


def test_a_finding_this_scale_cannot_measure_is_a_row_that_says_why(tmp_path):
    study = StudyDir(tmp_path)
    _sweep(study, {(0, s): [3, 3, 3 + s] for s in range(3)} | {(8, s): [1, 1, 1] for s in range(3)})
    rows = write_findings(_findings({"id": "fid", "rule": "not_measured", "note": "needs FID of 10k samples"},
                                    {"id": "d", "rule": "direction", "a": {"z_dim": 0}, "b": {"z_dim": 8}},
                                    {"id": "s", "rule": "similar", "a": {"z_dim": 0}, "b": {"z_dim": 8},
                                     "tolerance": 0.2}), study)
    assert rows[0]["verdict"] == verdicts.NOT_MEASURED and rows[0]["seeds"] == 0 and rows[1]["verdict"] == "reproduced"
    assert rows[2]["verdict"] == "not reproduced" and rows[2]["rule"] == "similar"  # 3 vs 1: 100 % apart
    assert "| fid | c | r | not measured | 0 | inconclusive (not measured) |" in study.findings_md.read_text()
    by_extremes, = write_findings(_findings({"id": "m", "rule": "direction", "a": {"z_dim": "min"},
                                             "b": {"z_dim": "max"}}), study)
    assert by_extremes["measured"] == rows[1]["measured"]  # min and max name z = 0 and z = 8
    with pytest.raises(GanlabError, match="rule not_measured needs a note"):
        _findings({"id": "x", "rule": "not_measured"})
    with pytest.raises(GanlabError, match="needs the step and the metric"):
        load_findings([{"id": "x", "claim": "c", "report": "r", "rule": "direction"}], "test")


def test_a_point_read_along_its_own_training(tmp_path):
    study = StudyDir(tmp_path)  # z = 0 keeps falling over its training; z = 8 is level from half-way on
    _sweep(study, {(0, s): [9, 6 - s / 10, 3] for s in range(3)}
           | {(8, s): [5, 2 + s / 10, 2 + s / 10] for s in range(3)})
    falls, level, level0 = write_findings(_findings(
        {"id": "falls", "rule": "trend", "x": "training", "a": {"z_dim": 0}, "expect": "<0", "after": 0},
        {"id": "level", "rule": "flat", "x": "training", "a": {"z_dim": 8}, "margin": 0.5, "after": 0.6},
        {"id": "level0", "rule": "flat", "x": "training", "a": {"z_dim": 0}, "margin": 0.5, "after": 0.6}), study)
    assert falls["verdict"] == "reproduced" and falls["measured"] == -1  # rho over the 3 measurements, each seed
    assert level["verdict"] == "reproduced" and level["measured"] == pytest.approx(0)  # 75 -> 100: no change
    assert level0["verdict"] == "not reproduced" and level0["measured"] < -0.5  # falls by ~3 per whole training
    with pytest.raises(GanlabError, match="works with the trend and flat rules"):
        write_findings(_findings({"id": "x", "rule": "direction", "x": "training", "a": {"z_dim": 0},
                                  "b": {"z_dim": 8}}), study)
    late, = write_findings(_findings(  # only the last measurement lies in the part read: still changing, said why
        {"id": "late", "rule": "trend", "x": "training", "a": {"z_dim": 0}, "expect": "<0", "after": 0.9}), study)
    assert late["verdict"] == "inconclusive (still changing)" and "needs at least two" in late["detail"]


def test_a_training_log_column_is_read_at_every_logged_iteration(tmp_path):
    study = StudyDir(tmp_path)
    _sweep(study, {(0, s): [3, 3, 3] for s in range(3)} | {(8, s): [1, 1, 1] for s in range(3)})
    for pid in study.sweep("latent").read_points():  # D(x) logged at 50 and 100: 0.5 early, 0.8 + seed/100 late
        seed = int(pid[-1])
        with RunDir(study.sweep("latent").run(pid).path).metrics.open("a") as log:
            log.write(json.dumps({"step": 50, "d_real": 0.5}) + "\n"
                      + json.dumps({"step": 100, "d_real": 0.8 + seed / 100}) + "\n")
    measured = measure(study, "latent", "d_real")
    assert measured.column == "d_real" and measured.steps == [50, 100]
    away, = write_findings(_findings({"id": "away", "rule": "away", "metric": "d_real", "target": 0.5,
                                      "tolerance": 0.05}), study)
    assert away["verdict"] == "inconclusive (still changing)"  # inside the band at 50, away at 100
    assert [m["verdict"] for m in away["measurements"]] == ["not reproduced", "reproduced"]


def test_a_finding_compares_points_of_two_steps(tmp_path):
    study = StudyDir(tmp_path)
    _sweep(study, {(z, s): [z + 1.0] * 3 for z in (0, 16) for s in range(3)})  # latent: z = 0, 16
    _sweep(study, {(16, s): [30.0 + s] * 3 for s in range(3)}, step="ablation", key="model.g_width")  # narrow nets
    row, = write_findings(_findings({"id": "w", "step": ["latent", "ablation"], "rule": "direction",
                                     "a": {"g_width": 16}, "b": {"z_dim": 16}}), study)
    assert row["verdict"] == "reproduced" and row["measured"] == pytest.approx(14.0)  # (30 + s) - 17, s = 0, 1, 2
    _sweep(study, {(0, s): [1.0] * 3 for s in range(3)}, step="again")  # the same point z = 0 as in latent
    with pytest.raises(GanlabError, match="both have the point z_dim=0"):
        write_findings(_findings({"id": "x", "step": ["latent", "again"], "rule": "direction", "a": {"z_dim": 0},
                                  "b": {"z_dim": 16}}), study)


def test_a_study_step_names_a_point_by_the_extremes_of_a_swept_key(tmp_path):
    study = StudyDir(tmp_path)
    _sweep(study, {(z, 0): [1.0] * 3 for z in (0, 4, 16)})
    sweep = study.sweep("latent")
    assert sweep.find_point({"z_dim": "max", "seed": 0}).path.name == "z_dim=16_seed=0"
    assert sweep.find_point({"model.z_dim": "min", "seed": "0"}).path.name == "z_dim=0_seed=0"
    with pytest.raises(GanlabError, match="g_width=max: g_width is not a swept key"):
        sweep.find_point({"g_width": "max", "seed": 0})


def test_a_metric_names_its_protocol_column_with_the_count_inside():
    from ganlab.metrics.names import protocol_name

    names = {"cfd2k_test", "acc2k", "zdrop1k_e1", "zdrop1k_e2", "dacc1k", "dgap1k"}
    assert protocol_name(names, "cfd") == "cfd2k_test"
    assert protocol_name(names, "zdrop_e2") == "zdrop1k_e2"
    assert protocol_name(names, "dacc") == "dacc1k"
    assert protocol_name(names, "zdrop") is None  # two candidates: ambiguous, the caller says which exist
    assert protocol_name(names, "d_real") is None


def test_a_finding_reads_some_classes_of_a_per_class_metric_against_the_rest(tmp_path):
    study = StudyDir(tmp_path)
    sweep = study.sweep("latent")
    points = {}
    for seed, low in enumerate((0.5, 0.6, 0.55)):  # classes 2 and 6 at `low`, the others at 0.9
        pid = f"z_dim=8_seed={seed}"
        points[pid] = {"state": "finished", "run_dir": sweep.relative_run(pid), "values": {"model.z_dim": 8},
                       "seed": seed}
        per_class = [low if c in (2, 6) else 0.9 for c in range(10)]
        log = RunDir(sweep.run(pid).path).metrics
        log.parent.mkdir(parents=True)
        log.write_text("".join(json.dumps({"kind": "eval", "step": s, "metrics": {"acc2k": {
            "value": 0.8, "per_class": per_class}}}) + "\n" for s in STEPS))
    atomic_write_json(sweep.status, {"points": points})
    measured = measure(study, "latent", "acc", classes=[2, 6])
    assert measured.column == "acc2k of classes 2,6 minus the rest"
    assert measured.values[(("model.z_dim", 8),)][100] == pytest.approx({0: -0.4, 1: -0.3, 2: -0.35})
    row = write_findings(_findings({"id": "F", "metric": "acc", "rule": "compare", "a": {"z_dim": 8},
                                    "target": 0, "expect": "<", "classes": [2, 6]}), study)[0]
    assert row["verdict"] == verdicts.REPRODUCED
    with pytest.raises(GanlabError, match="out of range"):
        measure(study, "latent", "acc", classes=[12])


def test_a_point_read_along_its_own_training_when_another_trains_fewer_iterations(tmp_path):
    study = StudyDir(tmp_path)
    sweep = study.sweep("latent")
    points = {}
    for z, steps in ((8, (50, 75, 100)), (16, (5, 8, 10))):  # z = 16 logs other iterations (more D steps)
        for seed in range(3):
            pid = f"z_dim={z}_seed={seed}"
            points[pid] = {"state": "finished", "run_dir": sweep.relative_run(pid), "values": {"model.z_dim": z},
                           "seed": seed}
            log = RunDir(sweep.run(pid).path).metrics
            log.parent.mkdir(parents=True)
            log.write_text("".join(json.dumps({"kind": "eval", "step": s, "metrics": {"cfd100_test": {
                "value": 10.0 - i - seed * 0.1}}}) + "\n" for i, s in enumerate(steps)))
    atomic_write_json(sweep.status, {"points": points})
    finding = {"id": "F", "rule": "trend", "x": "training", "after": 0.0, "expect": "<0"}
    for z in (8, 16):
        row = write_findings(_findings({**finding, "a": {"z_dim": z}}), study)[0]
        assert row["verdict"] == verdicts.REPRODUCED and row["seeds"] == 3, row


def _log_after_training(study: StudyDir, pid: str, records: list[dict]) -> None:
    """Eval records appended to a point's metrics.jsonl, as ``ganlab eval --log`` adds them."""
    with RunDir(study.sweep("latent").run(pid).path).metrics.open("a") as f:
        f.writelines(json.dumps({"kind": "eval", "after_training": True, **r}) + "\n" for r in records)


def test_a_gap_to_the_floor_is_read_from_evaluations_logged_after_training(tmp_path):
    study = StudyDir(tmp_path)
    _sweep(study, {(16, s): [9, 8, 7] for s in range(3)})
    for seed, gaps in enumerate(([70, 66], [72, 64], [68, 65])):  # fid minus floor at iterations 75 and 100
        _log_after_training(study, f"z_dim=16_seed={seed}", [
            {"step": s, "metrics": {"fid1k_test1k": {"value": 16 + g}, "floor1k_test1k": {"value": 16.0}}}
            for s, g in zip((75, 100), gaps)])
    gap = {"id": "gap", "rule": "value", "metric": "fid", "minus": "floor", "a": {"z_dim": 16}, "target": 40,
           "tolerance": 10, "only": ["cpu"]}
    row, = write_findings(_findings(gap), study, "cpu")
    assert row["metric"] == "fid1k_test1k minus floor1k_test1k" and row["seeds"] == 3
    assert [m["iteration"] for m in row["measurements"]] == [75, 100]  # only the evaluations holding both
    assert row["measured"] == pytest.approx(65.0) and row["verdict"] == verdicts.NOT_REPRODUCED
    assert measure(study, "latent", "cfd").column == "cfd100_test"  # the training's own evaluations unchanged
    tiny, = write_findings(_findings(gap), study, "tiny")
    assert tiny["verdict"] == verdicts.NOT_MEASURED and "not the tiny scale" in tiny["detail"]
    with pytest.raises(GanlabError, match="both 'cfd' and 'floor'"):
        measure(study, "latent", "cfd", minus="floor")


def test_a_metric_logged_under_two_protocols_is_refused_not_mixed(tmp_path):
    study = StudyDir(tmp_path)
    _sweep(study, {(16, 0): [9, 8, 7]})
    _log_after_training(study, "z_dim=16_seed=0", [{"step": 100, "metrics": {"cfd10k_test": {"value": 6.5}}}])
    with pytest.raises(GanlabError, match=r"several protocols .*cfd100_test.*name one"):
        measure(study, "latent", "cfd")
    assert measure(study, "latent", "cfd10k_test").values[(("model.z_dim", 16),)] == {100: {0: 6.5}}


# benchmarks/fid_agrees.py: a cfd-decided finding decided again by FID logged after training, on its own points
FID_AGREES_STUDY = """title: t
scales: {full: [], cpu: [], tiny: []}
steps:
  - {name: latent, command: [sweep, x]}
findings:
  - {id: F, claim: c, report: r, rule: direction, step: latent, metric: cfd, a: {z_dim: 0}, b: {z_dim: 8}, expect: ">"}
"""


def _exports(study: StudyDir, pid: str, steps: dict[int | None, int]) -> None:
    """Kept generator exports of a point, {epoch (None: the latest): iteration}; only each json's step is read."""
    run = RunDir(study.sweep("latent").run(pid).path)
    run.exports.mkdir()
    for epoch, step in steps.items():
        run.export(epoch).touch()  # what exported_epochs lists
        atomic_write_json(run.export(epoch).with_suffix(".json"), {"step": step})


EXPORTS = {1: 25, 2: 50, 3: 75, 4: 100, None: 100}  # each epoch's kept export; the latest ties epoch 4


def test_fid_is_read_for_the_findings_points_and_compared_with_cfd(tmp_path):
    study = StudyDir(tmp_path / "study")
    _sweep(study, {(z, s): [9 + z, 8 + z, 7 + (8 - z) + s % 2] for z in (0, 8, 64) for s in range(4)})
    (tmp_path / "study.yaml").write_text(FID_AGREES_STUDY)
    finding = next(f for f in load_study(str(tmp_path / "study.yaml")).findings if f.id == "F")
    for z, fid, fid_75 in ((0, 60.0, 30.0), (8, 40.0, 40.0)):  # FID-1k logged after training, seeds 0-2 only
        for seed in range(3):
            _exports(study, f"z_dim={z}_seed={seed}", EXPORTS)
            _log_after_training(study, f"z_dim={z}_seed={seed}",
                                [{"step": 100, "metrics": {"fid1k_test1k": {"value": fid + seed}}}])
            run = RunDir(study.sweep("latent").run(f"z_dim={z}_seed={seed}").path)
            assert fid_agrees.missing(run, finding, "fid1k_test1k", before=75) == [3]  # the export at 75 lacks it
            _log_after_training(study, f"z_dim={z}_seed={seed}",
                                [{"step": 75, "metrics": {"fid1k_test1k": {"value": fid_75 + seed}}}])
    result = fid_agrees.check(str(tmp_path / "study.yaml"), str(study.path), "F", 1000, [0, 1, 2],
                              torch.device("cpu"))
    assert sorted(Path(r).name for r in result["runs"]) == [f"z_dim={z}_seed={s}" for z in (0, 8) for s in range(3)]
    assert result["fid"]["verdict"] == "reproduced" and result["fid"]["seeds"] == 3 and result["fid"]["measured"] == 20
    # cfd at iteration 100 on the same seeds (seed 3 left out): z = 0 ends at 15 or 16, z = 8 at 7 or 8
    assert result["cfd"]["verdict"] == "reproduced" and result["cfd"]["seeds"] == 3 and result["agreement"] == "agree"
    # at the measurement before the last (75) z = 0 is the better one by both: cfd 8 against 16, FID 10 lower
    assert result["cfd"]["before"]["iteration"] == 75 and result["cfd"]["before"]["verdict"] == "not reproduced"
    assert result["fid"]["before"]["iteration"] == 75 and result["fid"]["before"]["measured"] == -10
    assert result["agreement_before"] == "agree"


def test_fid_agrees_reads_every_point_a_ranking_rule_admits(tmp_path):
    study = StudyDir(tmp_path / "study")
    _sweep(study, {(z, s): [9 + z, 8 + z, 7 + abs(8 - z) + s % 2] for z in (0, 8, 64) for s in range(3)})
    for z, fid in ((0, 30.0), (8, 50.0)):  # by cfd z = 8 ends the better one, by FID the worse
        for seed in range(3):
            _exports(study, f"z_dim={z}_seed={seed}", {None: 100})  # no epoch kept: read at the end only
            _log_after_training(study, f"z_dim={z}_seed={seed}",
                                [{"step": 100, "metrics": {"fid1k_test1k": {"value": fid + seed}}}])
    ranking = ("  - {id: G, claim: c, report: r, rule: all_directions, step: latent, metric: cfd, ref: {z_dim: 8}, "
               "expect: \"<\", among: {z_dim: [0, 8]}}\n")
    (tmp_path / "study.yaml").write_text(FID_AGREES_STUDY + ranking)
    result = fid_agrees.check(str(tmp_path / "study.yaml"), str(study.path), "G", 1000, [0, 1, 2],
                              torch.device("cpu"))
    assert sorted(Path(r).name for r in result["runs"]) == [f"z_dim={z}_seed={s}" for z in (0, 8) for s in range(3)]
    assert result["cfd"]["verdict"] == "reproduced" and result["fid"]["verdict"] == "not reproduced"
    assert result["agreement"] == "disagree" and "before" not in result["fid"] and "agreement_before" not in result
    assert result["rule"] == "all_directions" and result["among"] == {"z_dim": [0, 8]}
    with pytest.raises(SystemExit, match="compares points"):
        fid_agrees.check(str(tmp_path / "study.yaml"), str(study.path), "H", 1000, [0], torch.device("cpu"))


def test_fid_agrees_reads_a_trend_along_training_at_the_kept_exports_from_after_on(tmp_path):
    study = StudyDir(tmp_path / "study")
    cfd = {0: [9, 8, 7], 1: [8, 7, 6], 2: [9, 6, 7]}  # falls in every seed (Spearman rho -1, -1, -0.5)
    fid = {0: [35, 40, 45], 1: [36, 41, 46], 2: [41, 40, 47]}  # rises (rho 1, 1, 0.5) at iterations 50, 75, 100
    _sweep(study, {(z, s): cfd[s] for z in (0, 8) for s in range(3)})
    for seed in range(3):
        _exports(study, f"z_dim=8_seed={seed}", EXPORTS)
        _log_after_training(study, f"z_dim=8_seed={seed}", [{"step": s, "metrics": {"fid1k_test1k": {"value": v}}}
                                                             for s, v in zip(STEPS[1:], fid[seed][1:])])
    trend = ("  - {id: T, claim: c, report: r, rule: trend, x: training, after: 0.5, step: latent, metric: cfd, "
             "a: {z_dim: 8}, expect: \">0\"}\n")
    (tmp_path / "study.yaml").write_text(FID_AGREES_STUDY + trend)
    finding = next(f for f in load_study(str(tmp_path / "study.yaml")).findings if f.id == "T")
    run = RunDir(study.sweep("latent").run("z_dim=8_seed=0").path)
    assert fid_agrees.missing(run, finding, "fid1k_test1k") == [2]  # epoch 1 lies before half; 75 and 100 logged
    for seed in range(3):
        _log_after_training(study, f"z_dim=8_seed={seed}",
                            [{"step": 50, "metrics": {"fid1k_test1k": {"value": fid[seed][0]}}}])
    assert fid_agrees.missing(run, finding, "fid1k_test1k") == []
    result = fid_agrees.check(str(tmp_path / "study.yaml"), str(study.path), "T", 1000, [0, 1, 2],
                              torch.device("cpu"))
    assert sorted(Path(r).name for r in result["runs"]) == [f"z_dim=8_seed={s}" for s in range(3)]
    assert result["cfd"]["verdict"] == "not reproduced" and result["fid"]["verdict"] == "reproduced"
    assert result["fid"]["seeds"] == 3 and result["x"] == "training" and result["agreement"] == "disagree"


def test_fid_agreement_tells_an_interval_too_wide_to_decide_from_a_disagreement():
    def seeds(*values: float) -> dict[int, float]:
        return dict(enumerate(values))
    by_cfd = verdicts.direction(seeds(3, 4, 5), seeds(1, 1, 1), ">")  # reproduced
    assert fid_agrees.agreement(verdicts.direction(seeds(30, 40, 50), seeds(0, 0, 0), ">"), by_cfd) == "agree"
    wide = verdicts.direction(seeds(9, -5, 8), seeds(0, 0, 0), ">")  # mean 4 > 0, interval across 0
    assert wide.verdict == verdicts.INCONCLUSIVE and fid_agrees.agreement(wide, by_cfd) == "leans"
    against = verdicts.direction(seeds(-9, 5, -8), seeds(0, 0, 0), ">")  # inconclusive, mean -4
    assert fid_agrees.agreement(against, by_cfd) == "disagree"
    assert fid_agrees.agreement(verdicts.direction(seeds(-3, -4, -5), seeds(0, 0, 0), ">"), by_cfd) == "disagree"


def test_a_finding_about_one_point_reads_only_that_points_runs(tmp_path):
    study = StudyDir(tmp_path / "study")
    _sweep(study, {(z, s): [9, 8, 7] for z in (0, 8) for s in range(3)})
    for finding in _findings({"id": "V", "rule": "value", "a": {"z_dim": 8}, "target": 7, "tolerance": 1},
                             {"id": "C", "rule": "compare", "a": {"z_dim": "max"}, "target": 8, "expect": "<"}):
        runs = fid_agrees.compared_runs(study, finding, [0, 1])
        assert sorted(r.path.name for r in runs) == ["z_dim=8_seed=0", "z_dim=8_seed=1"], finding.rule
    away = _findings({"id": "A", "rule": "away", "a": {"z_dim": 8}, "target": 0.5, "tolerance": 0.05})[0]
    assert len(fid_agrees.compared_runs(study, away, [0, 1])) == 4  # away reads every point, as decide_at does


# benchmarks/longer_budget.py: a finding's runs trained on past the study's budget, in a copy, and decided again
LONGER_STUDY = """title: t
scales:
  full: []
  cpu: []
  tiny: [data.name=digits, model.g_width=8, model.d_width=8, train.batch_size=32, train.steps=20, train.epochs=0,
         train.log_every=5, device=cpu]
steps:
  - {name: latent, command: [sweep, "model.z_dim=2,4", "seed=0,1,2", --backend, sequential, --out, "{out}"]}
findings:
  - {id: L, claim: c, report: r, rule: direction, step: latent, metric: d_real, a: {z_dim: 2}, b: {z_dim: 4},
     expect: ">"}
  - {id: T, claim: c, report: r, rule: trend, x: training, step: latent, metric: d_real, a: {z_dim: 2}, expect: "<0"}
"""


def test_longer_budget_trains_a_copy_of_the_findings_runs_on_and_decides_at_every_measurement(tmp_path):
    from ganlab.cli.base import run_command
    from ganlab.studies.engine import run_study

    (tmp_path / "study.yaml").write_text(LONGER_STUDY)
    study = StudyDir(tmp_path / "study")
    run_study(tmp_path / "study.yaml", "tiny", study.path, run_command=run_command)
    work = tmp_path / "longer"
    result = longer_budget.check(str(tmp_path / "study.yaml"), str(study.path), "L", 30, [0, 1], 2, work)
    assert [m["iteration"] for m in result["measurements"]] == [5, 10, 15, 20, 25, 30]  # d_real every 5 logged
    assert [m["within_study_budget"] for m in result["measurements"]] == [True] * 4 + [False] * 2
    assert result["study_budget"] == 20 and all(m["seeds"] == 2 for m in result["measurements"])
    copies = [RunDir(r) for r in result["runs"]]
    assert sorted(r.path.name for r in copies) == [f"z_dim={z}_seed={s}" for z in (2, 4) for s in (0, 1)]
    assert all(r.read_status()["step"] == 30 and r.path.is_relative_to(work) for r in copies)
    originals = [RunDir(p) for p in study.sweep("latent").run_dirs()]
    assert len(originals) == 6 and all(r.read_status()["step"] == 20 for r in originals)  # the study's untouched
    again = longer_budget.check(str(tmp_path / "study.yaml"), str(study.path), "L", 30, [0, 1], 2, work)
    assert again["measurements"] == result["measurements"]  # a second call finds the runs trained: nothing new
    along = longer_budget.check(str(tmp_path / "study.yaml"), str(study.path), "T", 30, [0, 1], 2, work)
    by_step = {m["iteration"]: m for m in along["measurements"]}
    assert by_step[5]["verdict"] == verdicts.STILL_CHANGING  # one measurement in its second half: no trend yet
    finding = next(f for f in load_study(str(tmp_path / "study.yaml")).findings if f.id == "T")
    in_study = measure_steps(study, ["latent"], "d_real")
    fid_agrees.only_seeds(in_study, [0, 1])
    assert by_step[20]["measured"] == along_training(finding, in_study)[1].measured  # the study's own reading
    assert by_step[30]["seeds"] == 2 and by_step[30]["test"] == by_step[20]["test"]


def test_more_seeds_runs_the_findings_steps_as_the_study_does_with_more_seeds_and_decides_over_them(tmp_path):
    from ganlab.cli.base import run_command
    from ganlab.studies.engine import run_study

    (tmp_path / "study.yaml").write_text(LONGER_STUDY)
    study = StudyDir(tmp_path / "study")
    run_study(tmp_path / "study.yaml", "tiny", study.path, run_command=run_command)
    work = tmp_path / "seeds"
    result = more_seeds.check(str(tmp_path / "study.yaml"), "L", "0:4", "tiny", work)
    assert result["seeds"] == [0, 1, 2, 3] and all(m["seeds"] == 4 for m in result["measurements"])
    assert sorted(p.name for p in StudyDir(work).sweep("latent").run_dirs()) == [
        f"z_dim={z}_seed={s}" for z in (2, 4) for s in range(4)]
    in_study, in_work = measure_steps(study, ["latent"], "d_real"), measure_steps(StudyDir(work), ["latent"], "d_real")
    fid_agrees.only_seeds(in_work, [0, 1, 2])
    assert in_work.values == in_study.values  # the study's seeds trained again give the study's values


EVAL_STUDY = """title: t
scales:
  full: []
  cpu: []
  tiny: [data.name=digits, model.g_width=8, model.d_width=8, train.batch_size=128, train.steps=0, train.epochs=1,
         train.export_every=1, train.log_every=5, device=cpu]
steps:
  - {name: latent, command: [sweep, "model.z_dim=2,4,8", "seed=0,1", --backend, sequential, --out, "{out}"]}
  - {name: check, command: [eval, "{point:latent z_dim=2 seed=0}", "{point:latent z_dim=2 seed=1}",
                            "{point:latent z_dim=4 seed=0}", "{point:latent z_dim=4 seed=1}", --epoch, "1",
                            --metrics, checker, --n, "64", --ref, test, --ref-n, "64", --bootstrap, "0", --log]}
findings:
  - {id: C, claim: c, report: r, rule: direction, step: latent, metric: checker64_test64, a: {z_dim: 2},
     b: {z_dim: 4}, expect: ">"}
"""


def test_more_seeds_and_longer_budget_run_the_studys_logging_eval_step_on_the_points_and_the_new_epochs(tmp_path):
    (tmp_path / "study.yaml").write_text(EVAL_STUDY)
    seeds = tmp_path / "seeds"
    result = more_seeds.check(str(tmp_path / "study.yaml"), "C", "0:2", "tiny", seeds, ["model.z_dim=2,4"])
    assert sorted(p.name for p in StudyDir(seeds).sweep("latent").run_dirs()) == [
        f"z_dim={z}_seed={s}" for z in (2, 4) for s in (0, 1)]  # --set kept the compared points only
    assert result["column"] == "checker64_test64" and len(result["measurements"]) == 1  # the eval step, epoch 1
    per_epoch = result["measurements"][0]["iteration"]
    longer = tmp_path / "longer"
    again = longer_budget.check(str(tmp_path / "study.yaml"), str(seeds), "C", 2 * per_epoch, [0, 1], 2, longer)
    assert [m["iteration"] for m in again["measurements"]] == [per_epoch, 2 * per_epoch]  # epoch 2 measured
    assert again["measurements"][0] == {**result["measurements"][0], "within_study_budget": True}
    assert json.loads((longer / "evals.json").read_text()) == {
        str(Path(r).relative_to(longer)): [2] for r in again["runs"]}  # the ledger: epoch 2 of each copy
    third = longer_budget.check(str(tmp_path / "study.yaml"), str(seeds), "C", 2 * per_epoch, [0, 1], 2, longer)
    assert third["measurements"] == again["measurements"]  # nothing evaluated twice: the ledger says epoch 2 is in
