"""train.tensorboard: the run's records, evaluations and epoch grids, live in RUN_DIR/tensorboard/."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ganlab.config import load_config
from ganlab.errors import GanlabError
from ganlab.folders import RunDir
from ganlab.training.metrics_log import read_metrics
from ganlab.training.run import train

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_accumulator  # noqa: E402

STATS = ("loss_d", "loss_g", "d_real", "d_fake", "acc_real", "acc_fake", "heldout_d_real", "lr_g", "lr_d",
         "step_time_s")


def _events(run: Path) -> event_accumulator.EventAccumulator:
    acc = event_accumulator.EventAccumulator(str(RunDir(run).tensorboard),
                                             size_guidance={event_accumulator.SCALARS: 0, event_accumulator.IMAGES: 0})
    return acc.Reload()


def _assert_scalars_are_the_training_records(run: Path, acc: event_accumulator.EventAccumulator) -> None:
    records = [r for r in read_metrics(run) if r.get("kind") != "eval"]
    assert records
    for key in STATS:
        events = acc.Scalars(key)
        assert [e.step for e in events] == [r["step"] for r in records], key
        assert [e.value for e in events] == pytest.approx([r[key] for r in records], rel=1e-6, abs=1e-7), key


def test_tensorboard_mirrors_records_evaluations_and_grids(tmp_path: Path, tiny_overrides, digits_classifier):
    run = tmp_path / "tb"
    train(load_config(None, tiny_overrides + ["data.limit=128", "train.steps=8", "eval.every=1", "eval.n=40",
                                              "eval.metrics=acc,cfd", "eval.bootstrap=0",
                                              "train.tensorboard=true"]), run_dir=run, progress=False)
    acc = _events(run)
    _assert_scalars_are_the_training_records(run, acc)
    evals = [r for r in read_metrics(run) if r.get("kind") == "eval"]
    assert [r["step"] for r in evals] == [4, 8]  # 4 batches of 32 an epoch
    for name in ("acc40", "cfd40_test"):
        events = acc.Scalars(f"eval/{name}")
        assert [e.step for e in events] == [4, 8]
        assert [e.value for e in events] == pytest.approx([r["metrics"][name]["value"] for r in evals], rel=1e-6)
    grids = acc.Images("samples")
    assert [g.step for g in grids] == [4, 8] and len(RunDir(run).epoch_grids()) == 2
    assert all(g.width > 0 and g.height > 0 and g.encoded_image_string.startswith(b"\x89PNG") for g in grids)


def test_a_resumed_run_appends_without_doubled_steps(tmp_path: Path, tiny_overrides):
    cfg = load_config(None, tiny_overrides + ["train.steps=12", "train.log_every=1", "train.checkpoint_every=4",
                                              "train.tensorboard=true"])
    run = tmp_path / "cut"
    train(cfg, run_dir=run, stop_after_steps=9, progress=False)  # checkpoints at 4, 8, then 9; records 1..9
    RunDir(run).last_checkpoint.unlink()  # resumes from iteration 8: the events of 9 are purged, then written again
    train(None, resume=run, progress=False)
    assert len(list(RunDir(run).tensorboard.glob("events.out.tfevents.*"))) == 2
    assert [r["step"] for r in read_metrics(run)] == list(range(1, 13))
    _assert_scalars_are_the_training_records(run, _events(run))


def test_off_by_default_writes_no_tensorboard_folder(tmp_path: Path, tiny_overrides):
    cfg = load_config(None, tiny_overrides)
    assert cfg.train.tensorboard is False
    train(cfg, run_dir=tmp_path / "plain", progress=False)
    assert RunDir(tmp_path / "plain").metrics.is_file() and not RunDir(tmp_path / "plain").tensorboard.exists()


def test_missing_package_is_refused_before_training(tmp_path: Path, tiny_overrides, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if tensorboard were not installed
    with pytest.raises(GanlabError, match=r"pip install 'ganlab\[tensorboard\]'") as e:
        train(load_config(None, tiny_overrides + ["train.tensorboard=true"]), run_dir=tmp_path / "r", progress=False)
    assert "\n" not in str(e.value) and not RunDir(tmp_path / "r").metrics.exists()
