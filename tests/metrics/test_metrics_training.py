"""Evaluation during training and `ganlab eval` / `ganlab classifier train` on a tiny digits run."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from click.testing import CliRunner

from ganlab.cli import main
from ganlab.config import load_config
from ganlab.data.spec import ImageSpec
from ganlab.folders import RunDir
from ganlab.training.checkpoint import load_checkpoint
from ganlab.training.evaluation import TrainingEvaluator, run_fid
from ganlab.training.metrics_log import eval_records, read_metrics

EVAL = ["eval.n=10", "eval.ref_n=12", "eval.bootstrap=0", "eval.batch_size=40"]


@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory):
    """Two epochs of a tiny digits CGAN, FID after each epoch."""
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    overrides = ["data.name=digits", "model.g_width=8", "model.d_width=8", "model.z_dim=8", "train.batch_size=128",
                 "train.epochs=2", "train.log_every=5", "device=cpu", "eval.every=1", *EVAL]
    result = CliRunner().invoke(main, ["train", *overrides, "--run-dir", str(run_dir), "--quiet"])
    assert result.exit_code == 0, result.output
    return run_dir


def test_training_writes_eval_records_and_keeps_the_best(evaluated_run):
    evals = [r for r in read_metrics(evaluated_run) if r.get("kind") == "eval"]
    assert [r["epoch"] for r in evals] == [1, 2]
    assert all(r["fid_name"] == "fid10_test12" and r["fid"] > 0 for r in evals)
    # wall time since the start and the evaluation's own share (benchmarks/speed.py's time to FID uses both)
    assert all(0 < r["eval_time_s"] < r["time_s"] for r in evals) and evals[0]["time_s"] < evals[1]["time_s"]
    best = min(evals, key=lambda r: r["fid"])
    assert evals[-1]["best_fid"] == best["fid"] and evals[-1]["best_epoch"] == best["epoch"]
    assert RunDir(evaluated_run).best_checkpoint.is_file()
    meta = json.loads(RunDir(evaluated_run).best_export.with_suffix(".json").read_text())
    assert meta["epoch"] == best["epoch"] and meta["fid10_test12"] == best["fid"]
    status = json.loads(RunDir(evaluated_run).status.read_text())
    assert status["best_fid"] == best["fid"] and status["stopped_early"] is False


def test_eval_command_writes_eval_json_and_prints_a_table(evaluated_run):
    result = CliRunner().invoke(main, ["eval", str(evaluated_run), "--n", "10", "--ref-n", "12", "--bootstrap", "4",
                                       "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "fid10_test12" in result.output and "95% CI" in result.output
    saved = json.loads(RunDir(evaluated_run).eval.read_text())["fid10_test12"]
    assert saved["epoch"] == 2 and saved["bootstrap_resamples"] == 4 and saved["ref_n"] == 12
    # the export's samples are seeded: the same FID as the last evaluation during training
    last = [r for r in read_metrics(evaluated_run) if r.get("kind") == "eval"][-1]
    assert saved["value"] == pytest.approx(last["fid"], rel=1e-6)


def test_eval_seed_draws_other_samples_of_the_same_generator(evaluated_run, tmp_path):
    run = shutil.copytree(evaluated_run, tmp_path / "run")

    def fid(*seed: str) -> float:
        result = CliRunner().invoke(main, ["eval", str(run), "--n", "10", "--ref-n", "12", "--bootstrap", "0",
                                           "--device", "cpu", *seed])
        assert result.exit_code == 0, result.output
        return json.loads(RunDir(run).eval.read_text())["fid10_test12"]["value"]

    assert fid("--seed", "0") == pytest.approx(fid(), rel=1e-6)  # the run's eval.seed is 0
    assert fid("--seed", "1000") != pytest.approx(fid(), rel=1e-3)


def test_eval_command_logs_each_epochs_export_at_its_iteration(evaluated_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(evaluated_run, run)
    during = [r for r in read_metrics(run) if r.get("kind") == "eval"]
    result = CliRunner().invoke(main, ["eval", str(run), "--epoch", "1", "--epoch", "2", "--n", "10", "--ref-n", "12",
                                       "--bootstrap", "0", "--log", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert f"{run}, epoch 1" in result.output and f"{run}, epoch 2" in result.output
    logged = [r for r in read_metrics(run) if r.get("after_training")]
    assert [(r["epoch"], r["step"]) for r in logged] == [(r["epoch"], r["step"]) for r in during]
    # the same seeded samples as during training: the same FID; no best-FID bookkeeping on a logged record
    assert ([r["metrics"]["fid10_test12"]["value"] for r in logged]
            == pytest.approx([r["fid"] for r in during], rel=1e-6))
    assert all("fid" not in r and "best_fid" not in r for r in logged)
    CliRunner().invoke(main, ["eval", str(run), "--epoch", "1", "--n", "10", "--ref-n", "12", "--bootstrap", "0",
                              "--log", "--device", "cpu"])  # an earlier epoch logged last
    evaluator = _evaluator(run, every=1, patience=0)
    evaluator.restore()  # a resume rebuilds its state from the training's own evaluations only
    assert evaluator.last_step == during[-1]["step"] and evaluator.best_fid == min(r["fid"] for r in during)


def test_sweep_fid_evaluator_uses_the_runs_eval_settings(evaluated_run):
    figures = run_fid(evaluated_run)
    last = [r for r in read_metrics(evaluated_run) if r.get("kind") == "eval"][-1]
    assert list(figures) == ["fid10_test12"] and figures["fid10_test12"] == pytest.approx(last["fid"], rel=1e-6)


def test_eval_command_refuses_bad_input_in_one_line(evaluated_run):
    result = CliRunner().invoke(main, ["eval", str(evaluated_run), "--metrics", "fid,nope", "--device", "cpu"])
    assert result.exit_code == 2 and "unknown eval metric(s) nope" in result.output


def _evaluator(run_dir, every: int, patience: int) -> TrainingEvaluator:
    cfg = load_config(overrides=[f"eval.every={every}", f"eval.patience={patience}", "eval.metrics=[]"])
    return TrainingEvaluator(cfg, run_dir, ImageSpec(1, 8, 10), torch.device("cpu"))


def test_patience_counts_evaluations_without_improvement(tmp_path):
    ev = _evaluator(tmp_path, every=1, patience=2)
    for fid, epoch in [(50.0, 1), (40.0, 2), (45.0, 3)]:
        ev._update(fid, epoch)
    assert (ev.best_fid, ev.best_epoch, ev.since_best) == (40.0, 2, 1)
    ev._update(41.0, 4)
    assert ev.since_best == 2  # the loop stops here with patience 2
    records = [{"kind": "eval", "step": 10 * e, "epoch": e, "fid": f} for f, e in [(50.0, 1), (40.0, 2), (45.0, 3)]]
    RunDir(tmp_path).metrics.write_text("".join(json.dumps(r) + "\n" for r in records + [{"step": 9}]))
    resumed = _evaluator(tmp_path, every=1, patience=2)
    resumed.restore()
    assert (resumed.best_fid, resumed.best_epoch, resumed.since_best, resumed.last_step) == (40.0, 2, 1, 30)
    assert not ev.due(0, 0, True) and ev.due(33, 3, True) and not ev.due(31, 3, False)
    assert not _evaluator(tmp_path, every=0, patience=0).due(33, 3, True)


def test_early_stop_ends_training(tmp_path, monkeypatch):
    """patience=1 stops training at the first evaluation without a better FID. The FIDs are scripted
    (5, 6, ...) so the stop is certain; the real metric path is covered by the tests above."""
    fids = iter([5.0, 6.0, 7.0, 8.0])
    monkeypatch.setattr("ganlab.training.evaluation.evaluate",
                        lambda *a, **k: {"fid10_test12": {"value": next(fids)}})
    overrides = ["data.name=digits", "model.g_width=8", "model.d_width=8", "model.z_dim=8", "train.batch_size=256",
                 "train.epochs=4", "device=cpu", "eval.every=1", "eval.patience=1", *EVAL]
    result = CliRunner().invoke(main, ["train", *overrides, "--run-dir", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code == 0, result.output
    status = json.loads(RunDir(tmp_path / "run").status.read_text())
    assert status["stopped_early"] is True and status["epoch"] == 2 and status["best_epoch"] == 1
    evals = [r for r in read_metrics(tmp_path / "run") if r.get("kind") == "eval"]
    assert [r["fid"] for r in evals] == [5.0, 6.0] and evals[1]["evals_since_best"] == 1



def test_early_stop_between_epoch_ends_checkpoints_where_it_stops(tmp_path, monkeypatch):
    """An evaluation every 3 iterations (5 an epoch) without a better FID stops the run at iteration 6; its last
    checkpoint and export are of iteration 6, not of the epoch end before."""
    fids = iter([5.0, 6.0, 7.0])
    monkeypatch.setattr("ganlab.training.evaluation.evaluate",
                        lambda *a, **k: {"fid10_test12": {"value": next(fids)}})
    overrides = ["data.name=digits", "model.g_width=8", "model.d_width=8", "model.z_dim=8", "train.batch_size=256",
                 "train.epochs=4", "device=cpu", "eval.every=0", "eval.every_steps=3", "eval.patience=1", *EVAL]
    result = CliRunner().invoke(main, ["train", *overrides, "--run-dir", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code == 0, result.output
    status = json.loads(RunDir(tmp_path / "run").status.read_text())
    assert status["stopped_early"] is True and status["step"] == 6
    assert load_checkpoint(tmp_path / "run")["step"] == 6

def test_classifier_train_command(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLAB_CACHE", str(tmp_path))  # its 1-epoch classifier must not replace the session's
    result = CliRunner().invoke(main, ["classifier", "train", "digits", "--epochs", "1", "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "digits classifier (8px): test accuracy" in result.output


def test_missing_classifier_is_refused_before_training(tmp_path):
    overrides = ["data.name=digits", "model.g_width=8", "model.d_width=8", "train.steps=2", "device=cpu",
                 "eval.every=1", "eval.metrics=[acc]", "data.resolution=16"]
    result = CliRunner().invoke(main, ["train", *overrides, "--run-dir", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code == 2 and "ganlab classifier train digits" in result.output
    assert not RunDir(tmp_path / "run").metrics.exists()


def test_explore_collapse_uses_the_domain_classifier(evaluated_run, digits_classifier):
    result = CliRunner().invoke(main, ["explore", str(evaluated_run), "collapse", "--n", "40"])
    assert result.exit_code == 0, result.output
    saved = json.loads((evaluated_run / "explore" / "collapse.json").read_text())
    assert sum(saved["counts"]) == 40


def test_a_step_budget_ends_on_an_evaluation(tmp_path, digits_classifier):
    """Report 001 trains 5,000 steps, not whole epochs: the last evaluation is of the final generator."""
    run_dir = tmp_path / "steps"
    overrides = ["data.name=digits", "model.g_width=8", "model.d_width=8", "model.z_dim=8", "train.batch_size=128",
                 "train.steps=25", "device=cpu", "eval.every=1", "eval.metrics=[cfd]", "eval.n=50",
                 "eval.bootstrap=0"]
    result = CliRunner().invoke(main, ["train", *overrides, "--run-dir", str(run_dir), "--quiet"])
    assert result.exit_code == 0, result.output
    evals = [r for r in read_metrics(run_dir) if r.get("kind") == "eval"]
    assert [r["step"] for r in evals] == [11, 22, 25]  # 1437 // 128 = 11 iterations an epoch, then the budget's end
    assert all(r["metrics"]["cfd50_test"]["value"] > 0 for r in evals)


def test_evaluations_every_n_steps_survive_a_pause(tmp_path, digits_classifier):
    """eval.every_steps reads a step budget at fixed fractions (report 001: quarters of 5,000); a run paused
    between two evaluations and resumed evaluates at the same iterations, with the same values."""
    overrides = ["data.name=digits", "model.g_width=8", "model.d_width=8", "model.z_dim=8", "train.batch_size=128",
                 "train.steps=25", "device=cpu", "eval.every=0", "eval.every_steps=8", "eval.metrics=[cfd]",
                 "eval.n=50", "eval.bootstrap=0"]

    def evals(run_dir):
        return [(r["step"], r["metrics"]["cfd50_test"]["value"]) for r in read_metrics(run_dir)
                if r.get("kind") == "eval"]

    straight, paused = tmp_path / "straight", tmp_path / "paused"
    assert CliRunner().invoke(main, ["train", *overrides, "--run-dir", str(straight), "--quiet"]).exit_code == 0
    first = CliRunner().invoke(main, ["train", *overrides, "--run-dir", str(paused), "--quiet",
                                      "--stop-after-steps", "12"])
    assert first.exit_code == 0 and [s for s, _ in evals(paused)] == [8], first.output
    assert CliRunner().invoke(main, ["train", "--resume", str(paused), "--quiet"]).exit_code == 0
    assert [s for s, _ in evals(straight)] == [8, 16, 24, 25]  # every 8 iterations, then the budget's end
    assert evals(paused) == evals(straight)
    # each evaluation sits at the epochs of training done (1437 // 128 = 11 iterations an epoch), on the figures too
    assert [r["epoch"] for r in read_metrics(straight) if r.get("kind") == "eval"] == [s / 11 for s in (8, 16, 24, 25)]
    assert [e for e, _ in eval_records(straight)] == pytest.approx([s / 11 for s in (8, 16, 24, 25)])


def test_eval_records_place_an_older_logs_mid_epoch_evaluations_by_their_iteration(tmp_path):
    """Logs written before evaluations carried a fractional epoch: the iteration places them."""
    records = [{"step": 10, "epoch": 0.5, "loss_d": 1.0}, {"kind": "eval", "step": 10, "epoch": 0, "metrics": {}},
               {"step": 20, "epoch": 1.0, "loss_d": 1.0}, {"kind": "eval", "step": 30, "epoch": 1, "metrics": {}}]
    RunDir(tmp_path).metrics.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert [e for e, _ in eval_records(tmp_path)] == [0.5, 1.5]


def test_negative_eval_every_steps_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["train", "data.name=digits", "eval.every_steps=-1", "--run-dir",
                                       str(tmp_path / "r"), "--quiet"])
    assert result.exit_code != 0 and "eval.every_steps must be >= 0, got -1" in result.output
