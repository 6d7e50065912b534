import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from ganlab.cli import main
from ganlab.config import load_config, to_yaml
from ganlab.errors import GanlabError, TrainingDiverged
from ganlab.explore.sample_run import sample_images
from ganlab.folders import RUNS_ROOT, RunDir
from ganlab.training.checkpoint import load_checkpoint
from ganlab.training.metrics_log import read_metrics
from ganlab.training.run import train
from ganlab.training.rundir import short_of_budget


def test_run_directory_contents(tmp_path: Path, tiny_overrides):
    cfg = load_config(None, tiny_overrides + ["train.steps=0", "train.epochs=2", "train.batch_size=200"])
    result = train(cfg, out_root=tmp_path, progress=False)
    run = result.run_dir
    assert result.finished and run.name == "00000-digits-dcgan"
    assert load_config(RunDir(run).config) == cfg
    assert RunDir(run).epoch_grids() == [RunDir(run).epoch_grid(1), RunDir(run).epoch_grid(2)]
    records = list(read_metrics(run))
    assert records[-1]["step"] == result.step == 14  # 1437 // 200 = 7 iterations per epoch
    for key in ("loss_d", "loss_g", "d_real", "d_fake", "acc_real", "acc_fake", "heldout_d_real",
                "heldout_acc_fake", "step_time_s", "images_per_s"):
        assert key in records[-1]
    status = json.loads(RunDir(run).status.read_text())
    assert status["state"] == "finished"
    from ganlab.data import load_data
    from ganlab.models import build_models

    g, d = build_models(cfg.model, load_data(cfg.data).spec)
    assert status["parameters"] == {"G": sum(p.numel() for p in g.parameters()),
                                    "D": sum(p.numel() for p in d.parameters())} and status["parameters"]["G"] > 1000
    assert RunDir(run).export(2).is_file()
    assert train(cfg, out_root=tmp_path, progress=False).run_dir.name == "00001-digits-dcgan"  # never overwritten


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    state = load_checkpoint(run_dir)
    return {**{f"G.{k}": v for k, v in state["G"].items()}, **{f"D.{k}": v for k, v in state["D"].items()}}


@pytest.mark.parametrize("extra", [
    [],
    ["data.augment.rotation_deg=20", "data.augment.crop_padding=1", "data.augment.hflip=true",
     "train.d_steps=2", "train.lr_step_epochs=1", "model.conditioning=embedding", "model.d_batchnorm=true"],
])
def test_killed_and_resumed_run_equals_uninterrupted(tmp_path: Path, tiny_overrides, extra):
    cfg = load_config(None, tiny_overrides + ["train.steps=0", "train.epochs=2", "train.batch_size=128"] + extra)
    whole = train(cfg, run_dir=tmp_path / "whole", progress=False)
    first = train(cfg, run_dir=tmp_path / "parts", stop_after_steps=5, progress=False)
    assert not first.finished and first.step == 5
    assert json.loads(RunDir(tmp_path / "parts").status.read_text())["state"] == "paused"
    second = train(None, resume=tmp_path / "parts", progress=False)
    assert second.finished and second.step == whole.step
    a, b = _weights(whole.run_dir), _weights(second.run_dir)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    steps = [r["step"] for r in read_metrics(second.run_dir)]
    assert steps == sorted(steps) and len(steps) == len(set(steps))


def test_truncated_last_checkpoint_resumes_from_the_previous_one(tmp_path: Path, tiny_overrides, capsys):
    cfg = load_config(None, tiny_overrides + ["train.steps=12", "train.checkpoint_every=3"])
    whole = train(cfg, run_dir=tmp_path / "whole", progress=False)
    train(cfg, run_dir=tmp_path / "cut", stop_after_steps=7, progress=False)  # checkpoints at 3, 6, then 7
    last = RunDir(tmp_path / "cut").last_checkpoint
    assert load_checkpoint(tmp_path / "cut")["step"] == 7
    last.write_bytes(last.read_bytes()[:1000])  # a copy cut short
    capsys.readouterr()
    resumed = train(None, resume=tmp_path / "cut", progress=False)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.fullmatch(rf"ganlab: {re.escape(str(last.parent))}: last.pt is unreadable \(\w+\); "
                                          r"resuming from previous.pt \(iteration 6\)", err[0]), err
    a, b = _weights(whole.run_dir), _weights(resumed.run_dir)
    assert all(torch.equal(a[k], b[k]) for k in a)  # from iteration 6, the same training as without the cut
    last.unlink()
    RunDir(tmp_path / "cut").previous_checkpoint.unlink()
    with pytest.raises(GanlabError, match="no usable checkpoint .*last.pt is missing; previous.pt is missing"):
        load_checkpoint(tmp_path / "cut")


def test_one_resume_rule_for_a_run_folder(tmp_path: Path, tiny_overrides):
    """The same config continues (nothing to do once finished), a changed one is refused unless --force (continue
    with it) or --overwrite (start afresh); a folder holding something else is refused."""
    cfg = load_config(None, tiny_overrides)
    first = train(cfg, run_dir=tmp_path / "r", stop_after_steps=4, progress=False)
    assert not first.finished and RunDir(tmp_path / "r").state() == "paused"
    log = RunDir(tmp_path / "r").metrics.read_text()
    second = train(cfg, run_dir=tmp_path / "r", progress=False)  # the same command again: continues
    assert second.finished and second.step == 6 and RunDir(tmp_path / "r").metrics.read_text().startswith(log)
    done = RunDir(tmp_path / "r").last_checkpoint.stat().st_mtime_ns
    assert train(cfg, run_dir=tmp_path / "r", progress=False).step == 6  # finished: nothing trained
    assert RunDir(tmp_path / "r").last_checkpoint.stat().st_mtime_ns == done
    changed = load_config(None, tiny_overrides + ["train.lr_g=0.1"])
    for folder in ({"run_dir": tmp_path / "r"}, {"resume": tmp_path / "r"}):
        with pytest.raises(GanlabError, match=r"holds a run of another config \(train.lr_g: 0.0002 -> 0.1\); "
                                              r"pass --force .* --overwrite"):
            train(changed, progress=False, **folder)
    train(changed, resume=tmp_path / "r", force=True, progress=False)
    assert load_config(RunDir(tmp_path / "r").config).train.lr_g == 0.1
    again = train(cfg, run_dir=tmp_path / "r", overwrite=True, progress=False)
    assert again.finished and load_config(RunDir(tmp_path / "r").config).train.lr_g == cfg.train.lr_g
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(GanlabError, match="exists and holds no ganlab run; pass --overwrite"):
        train(cfg, run_dir=tmp_path / "other", progress=False)
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_a_longer_budget_whose_first_try_failed_is_trained_when_tried_again(tmp_path: Path, tiny_overrides):
    """--force writes the new config before training; if that try fails (data missing), the same command again
    trains on instead of taking the finished run as done."""
    cfg = load_config(None, tiny_overrides)
    assert train(cfg, run_dir=tmp_path / "r", progress=False).step == 6
    longer = load_config(None, tiny_overrides + ["train.steps=9"])
    RunDir(tmp_path / "r").config.write_text(to_yaml(longer))  # what the failed try left: new config, old status
    again = train(None, resume=tmp_path / "r", progress=False)
    assert again.finished and again.step == 9 and RunDir(tmp_path / "r").read_status()["step"] == 9
    assert train(None, resume=tmp_path / "r", progress=False).step == 9  # now done: nothing more


@pytest.mark.parametrize("status, budget, short", [
    ({"state": "finished", "step": 6}, ["train.steps=9"], True),
    ({"state": "finished", "step": 9}, ["train.steps=9"], False),
    ({"state": "finished", "step": 6, "stopped_early": True}, ["train.steps=9"], False),  # early stopping: done
    ({"state": "diverged", "step": 6}, ["train.steps=9"], False),
    ({"state": "finished", "step": 40, "epoch": 2}, ["train.steps=0", "train.epochs=3"], True),
    ({"state": "finished", "step": 60, "epoch": 3}, ["train.steps=0", "train.epochs=3"], False),
])
def test_short_of_budget_reads_steps_or_epochs(status, budget, short, tiny_overrides):
    assert short_of_budget(status, load_config(None, tiny_overrides + budget)) is short


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path: Path, tiny_overrides):
    # a step schedule that multiplies the learning rates by 1e12 each epoch diverges in epoch 3
    cfg = load_config(None, tiny_overrides + ["train.steps=60", "train.batch_size=256", "train.lr_step_epochs=1",
                                              "train.lr_step_factor=1e12", "train.loss=hinge"])
    with pytest.raises(TrainingDiverged, match=r"NaN/inf (at|by) iteration \d+; the last good checkpoint") as info:
        train(cfg, run_dir=tmp_path / "nan", progress=False)
    bad = int(str(info.value).split("iteration ")[1].split(";")[0])
    state = load_checkpoint(tmp_path / "nan")
    assert 0 < state["step"] < bad
    assert all(torch.isfinite(v).all() for v in state["G"].values() if v.is_floating_point())
    assert json.loads(RunDir(tmp_path / "nan").status.read_text())["state"] == "diverged"


def test_seeded_sampling_and_export(tmp_path: Path, tiny_overrides):
    run = train(load_config(None, tiny_overrides), run_dir=tmp_path / "r", progress=False).run_dir
    a = sample_images(run, labels=[3], seeds=[5, 6, 7])
    b = sample_images(run, labels=[3], seeds=[7])
    assert a.images.shape == (3, 1, 8, 8) and a.images.dtype == torch.uint8
    assert torch.equal(a.images[2], b.images[0])  # seed 7 names one image, wherever it sits
    blocks = sample_images(run, labels=[0, 9], n=4)
    assert blocks.labels.tolist() == [0, 0, 9, 9] and blocks.seeds == [0, 1, 2, 3]
    tensors = load_file(str(RunDir(run).export()))  # plain tensors, no pickles
    assert all(isinstance(t, torch.Tensor) for t in tensors.values())
    with pytest.raises(GanlabError, match=r"label\(s\) \[12\] out of range"):
        sample_images(run, labels=[12], n=2)
    with pytest.raises(GanlabError, match="kept no export of epoch 9"):
        sample_images(run, epoch=9)


def test_cli_train_sample_dry_run_and_errors(tmp_path: Path, tiny_overrides, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    out = runner.invoke(main, ["train", "--dry-run", *tiny_overrides])
    assert out.exit_code == 0 and "z_dim: 8" in out.output and not (tmp_path / RUNS_ROOT).exists()
    out = runner.invoke(main, ["train", "--run-dir", "run", *tiny_overrides])
    assert out.exit_code == 0, out.output
    assert re.search(r"ganlab: run: G [\d,]+ parameters, D [\d,]+ parameters", out.output)  # printed at the start
    assert RunDir(tmp_path / "run").curves.is_file()
    out = runner.invoke(main, ["sample", "run", "--labels", "0,3,7", "--seeds", "0:6", "-o", "g.png", "--npz", "g.npz"])
    assert out.exit_code == 0, out.output
    arrays = np.load(tmp_path / "g.npz")
    assert arrays["images"].shape == (6, 1, 8, 8) and arrays["labels"].tolist() == [0, 0, 3, 3, 7, 7]
    assert arrays["seeds"].tolist() == list(range(6)) and (tmp_path / "g.png").stat().st_size > 0
    out = runner.invoke(main, ["train", "--quiet", "--run-dir", "run", *tiny_overrides, "train.lr_d=0.1"])
    assert out.exit_code == 2 and out.output.startswith("error: run holds a run of another config")
    assert out.output.count("\n") == 1
    out = runner.invoke(main, ["train", "data.name=nope"])
    assert out.exit_code == 2 and "unknown data set 'nope'" in out.output


def test_atomic_writes_get_the_usual_file_mode(tmp_path: Path):
    import os

    from ganlab.io import atomic_write_text

    path = atomic_write_text(tmp_path / "a.txt", "x")
    umask = os.umask(0)
    os.umask(umask)
    assert path.read_text() == "x" and (path.stat().st_mode & 0o777) == (0o666 & ~umask)
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary left behind


@pytest.mark.parametrize("conditioning", ["onehot", "none"])
def test_epoch_grid_latents_follow_the_conditioning(tmp_path: Path, tiny_overrides, conditioning):
    from ganlab.training.trainer import Trainer

    cfg = load_config(None, tiny_overrides + [f"model.conditioning={conditioning}", "train.grid_columns=4"])
    z, y = Trainer(cfg, tmp_path / "run")._grid_inputs
    assert z.shape[0] == y.shape[0] == 40  # 10 classes x 4 columns
    distinct_latents = len({tuple(row.tolist()) for row in z})
    if conditioning == "none":  # no label to vary along a row: every cell its own latent
        assert distinct_latents == 40
    else:  # a row per class, the same 4 latents in every row
        assert distinct_latents == 4 and y.tolist() == [c for c in range(10) for _ in range(4)]
