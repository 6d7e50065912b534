"""The sweep directory: status, resume after interruption, results table, CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sweep_helpers import TINY

from ganlab.cli import main
from ganlab.errors import GanlabError
from ganlab.folders import RunDir, SweepDir
from ganlab.sweeps import build_spec, read_results, run_sweep
from ganlab.sweeps.results import point_metrics
from ganlab.training.run import train


def _spec(*extra):
    return build_spec(None, [*TINY, "model.z_dim=2,4", "seed=0,1", *extra])


def test_resume_skips_finished_points(tmp_path):
    out = tmp_path / "sw"
    first = run_sweep(_spec(), out, stop_after_points=1)
    assert (first.trained, first.remaining) == (1, 3)
    status = SweepDir(out).read_points()
    assert status["z_dim=2_seed=0"]["state"] == "finished"
    assert status["z_dim=2_seed=0"]["metrics"]["step"] == 6
    assert sorted(s["state"] for s in status.values()) == ["finished", "pending", "pending", "pending"]
    done_log = RunDir(SweepDir(out).run("z_dim=2_seed=0").path).metrics
    before = (done_log.read_text(), done_log.stat().st_mtime_ns)

    second = run_sweep(_spec(), out)
    assert (second.trained, second.skipped, second.remaining) == (3, 1, 0)
    assert (done_log.read_text(), done_log.stat().st_mtime_ns) == before  # untouched
    rows = read_results(out)
    assert [r["state"] for r in rows] == ["finished"] * 4
    assert {"loss_d", "heldout_loss_d", "model.z_dim", "seed", "train.lr_g"} <= set(rows[0])
    assert (SweepDir(out).results_csv).read_text().splitlines()[0].startswith("point,state,seed,model.z_dim")
    assert run_sweep(_spec(), out).trained == 0  # all done: nothing retrained


def test_point_killed_mid_training_resumes_from_its_checkpoint(tmp_path):
    out = tmp_path / "sw"
    spec = _spec("train.checkpoint_every=2")
    run_sweep(spec, out, stop_after_points=0)  # writes the status with every point pending
    point_dir = SweepDir(out).run("z_dim=2_seed=0").path
    from ganlab.sweeps.expand import expand

    cfg = expand(spec)[0].cfg
    train(cfg, run_dir=point_dir, stop_after_steps=3, progress=False)  # as if killed after step 3's checkpoint
    first_record = RunDir(point_dir).metrics.read_text().splitlines()[0]
    result = run_sweep(spec, out, stop_after_points=1)
    assert result.trained == 1
    records = RunDir(point_dir).metrics.read_text().splitlines()
    assert records[0] == first_record  # continued, not restarted
    assert json.loads(records[-1])["step"] == 6
    assert json.loads(RunDir(point_dir).status.read_text())["state"] == "finished"


def test_changed_config_is_refused_unless_forced(tmp_path):
    out = tmp_path / "sw"
    run_sweep(_spec(), out, stop_after_points=1)
    with pytest.raises(GanlabError, match=r"another config \(train.lr_g"):
        run_sweep(_spec("train.lr_g=1e-3"), out)
    assert run_sweep(_spec("train.lr_g=1e-3"), out, force=True, stop_after_points=1).trained == 1


def test_point_metrics_merges_eval_json_and_an_evaluator(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    RunDir(run).metrics.write_text('{"step": 1, "loss_d": 2.0}\n{"step": 2, "loss_d": 1.0}\n')
    RunDir(run).eval.write_text('{"fid10k_test": {"value": 30.5, "ci_low": 29.0, "n": 10000}}')
    metrics = point_metrics(run, evaluator=lambda d: {"fid_custom": 7.0})
    assert metrics == {"step": 2, "loss_d": 1.0, "fid10k_test": 30.5, "fid10k_test.ci_low": 29.0, "fid_custom": 7.0}


def test_cli_inline_sweep(tmp_path):
    out = tmp_path / "cli"
    args = ["sweep", *TINY, "model.z_dim=2,4", "seed=0", "--out", str(out), "--metric", "loss_d"]
    result = CliRunner().invoke(main, args + ["--stop-after-points", "1"])
    assert result.exit_code == 0, result.output
    assert "1 point(s) left" in result.output
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "done: trained 1, skipped 1" in result.output
    assert SweepDir(out).metric_vs_key("loss_d", "model.z_dim").is_file()
    bad = CliRunner().invoke(main, ["sweep", "model.zdim=1,2", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "did you mean model.z_dim" in bad.output


def test_packed_sweep_evaluates_every_point_draws_the_metric_and_its_measured_floor(tmp_path, digits_classifier):
    from ganlab.config import EvalConfig
    from ganlab.sweeps.command import run_sweep_command
    from ganlab.sweeps.evaluation import metric_column

    assert metric_column("fid", EvalConfig()) == "fid10k_test" and metric_column("loss_d", EvalConfig()) == "loss_d"
    out = tmp_path / "sw"
    items = [*TINY, "model.z_dim=2,4", "seed=0,1"]
    first = run_sweep_command(None, items, out=out, backend="packed", metric="cfd", eval_metrics=["cfd", "acc"],
                              eval_n=60)
    assert first.column == "cfd60_test" and first.sweep.trained == 4
    rows = read_results(out)
    assert all(r["cfd60_test"] > 0 and 0 <= r["acc60"] <= 1 for r in rows)
    assert "cfd60_test" in (SweepDir(out).results_csv).read_text().splitlines()[0]
    assert first.floor is not None and first.floor["column"] == "floor_cfd60_test"
    assert 0 < first.floor["value"] < min(r["cfd60_test"] for r in rows)  # real images score better than 6 steps
    assert {SweepDir(out).metric_vs_key("cfd60_test", "model.z_dim"), SweepDir(out).d_outputs} <= set(first.figures)
    saved = json.loads(RunDir(SweepDir(out).run("z_dim=2_seed=0").path).eval.read_text())
    assert set(saved) == {"cfd60_test", "acc60"}
    log = RunDir(SweepDir(out).run("z_dim=2_seed=0").path).metrics
    before = log.read_text()
    again = run_sweep_command(None, items, out=out, backend="packed", metric="cfd", eval_metrics=["cfd"], eval_n=80)
    assert again.sweep.trained == 0 and again.column == "cfd80_test"  # evaluated again, not retrained
    assert log.read_text() == before
    assert all(r["cfd80_test"] > 0 and r["cfd60_test"] > 0 for r in read_results(out))


def test_a_typed_in_floor_is_refused(tmp_path):
    from ganlab.sweeps import load_sweep_file

    path = tmp_path / "s.yaml"
    path.write_text("grid: {model.z_dim: [2, 4]}\nfloor: 1.49\n")
    with pytest.raises(GanlabError, match="floor is measured"):
        load_sweep_file(path)
