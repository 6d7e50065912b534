"""Packed training equals sequential training: same seeds, same final weights (CPU, float tolerance)."""

from __future__ import annotations

import json

import pytest
import torch
from sweep_helpers import TINY

from ganlab.config import load_config
from ganlab.data import load_data
from ganlab.errors import GanlabError
from ganlab.folders import RunDir, SweepDir
from ganlab.sweeps import build_spec, run_sweep
from ganlab.sweeps.expand import expand
from ganlab.sweeps.packed import PackedTrainer, plan_groups
from ganlab.sweeps.packing import PaddedLayout, padding_is_exact
from ganlab.sweeps.runner import Job
from ganlab.training.run import train
from ganlab.training.rundir import RunPlan
from ganlab.training.trainer import Trainer

ATOL = 1e-5  # observed differences are ~1e-7 (vmap's batched kernels sum in another order)


def _sequential(cfgs, root):
    trainers = []
    for i, cfg in enumerate(cfgs):
        run_dir = root / f"seq{i}"
        run_dir.mkdir(parents=True)
        trainer = Trainer(cfg, run_dir)
        trainer.run(progress=False)
        trainers.append(trainer)
    return trainers


def _assert_same_training(cfgs, root):
    sequential = _sequential(cfgs, root)
    packed = PackedTrainer(cfgs, [root / f"packed{i}" for i in range(len(cfgs))])
    outcome = packed.run()
    assert outcome == {i: None for i in range(len(cfgs))}
    moved = 0.0
    for seq, member in zip(sequential, packed.members):
        for net in ("G", "D"):
            a, b = getattr(seq, net).state_dict(), getattr(member, net).state_dict()
            assert a.keys() == b.keys()
            for name in a:
                torch.testing.assert_close(b[name].float(), a[name].float(), atol=ATOL, rtol=0, msg=name)
        # Adam's moments match too, so a packed member resumes exactly like a sequential run
        for p_seq, p_mem in zip(seq.opt_g.param_groups[0]["params"], member.opt_g.param_groups[0]["params"]):
            torch.testing.assert_close(member.opt_g.state[p_mem]["exp_avg"], seq.opt_g.state[p_seq]["exp_avg"],
                                       atol=ATOL, rtol=0)
        # the run directories hold the same log: same losses at the same steps
        log_a = [json.loads(l) for l in RunDir(seq.run_dir).metrics.read_text().splitlines()]
        log_b = [json.loads(l) for l in RunDir(member.run_dir).metrics.read_text().splitlines()]
        assert [r["step"] for r in log_a] == [r["step"] for r in log_b]
        for ra, rb in zip(log_a, log_b):
            assert rb["loss_d"] == pytest.approx(ra["loss_d"], abs=1e-4)
            assert rb["heldout_d_fake"] == pytest.approx(ra["heldout_d_fake"], abs=1e-4)
        init = Trainer(seq.cfg, root / "init").G.state_dict()
        moved = max(moved, max((init[k].float() - a_k.float()).abs().max().item()
                               for k, a_k in seq.G.state_dict().items()))
    assert moved > 1e-3  # the comparison is not of untrained weights
    # members differ from one another (own seeds / learning rates)
    g0, g1 = packed.members[0].G.state_dict(), packed.members[1].G.state_dict()
    assert any(not torch.equal(g0[k], g1[k]) for k in g0)


def test_packed_equals_sequential_seed_sweep(tmp_path):
    extra = ["train.steps=12", "model.d_batchnorm=true", "train.lr_step_epochs=1", "train.log_every=4",
             "data.limit=256", "data.augment.hflip=true"]  # 8 batches an epoch: schedule and epoch ends fire
    cfgs = [load_config(None, TINY + extra + [f"seed={s}"]) for s in (0, 1, 2)]
    _assert_same_training(cfgs, tmp_path)


def test_packed_equals_sequential_learning_rate_sweep(tmp_path):
    cfgs = [load_config(None, TINY + ["train.steps=10", f"train.lr_g={lr}", f"train.lr_d={2 * lr}",
                                      f"train.betas_g=[{b1}, 0.99]"])
            for lr, b1 in ((5e-5, 0.5), (2e-4, 0.0), (1e-3, 0.9))]
    _assert_same_training(cfgs, tmp_path)


def test_packed_equals_sequential_latent_sweep_with_zero_padding(tmp_path):
    cfgs = [load_config(None, TINY + ["train.steps=10", f"model.z_dim={z}", "seed=3"]) for z in (0, 3, 8)]
    _assert_same_training(cfgs, tmp_path)


def test_packed_equals_sequential_with_two_d_steps_and_l1(tmp_path):
    cfgs = [load_config(None, TINY + ["train.steps=5", "train.d_steps=2", "train.g_steps=2",
                                      f"train.l1_weight={w}", f"seed={s}"]) for s, w in ((0, 0.0), (1, 2.0))]
    _assert_same_training(cfgs, tmp_path)


def test_padding_is_verified_per_family():
    spec = load_data(load_config(None, ["data.name=digits"]).data).spec
    for family in ("dcgan", "mlp"):
        cfg = load_config(None, TINY + [f"model.family={family}"])
        assert padding_is_exact(cfg, spec, [0, 2, 5])


def test_layout_refuses_a_shape_it_cannot_pad():
    with pytest.raises(GanlabError, match="pad_latent: false"):
        PaddedLayout({"w": torch.Size([4, 9])}, [{"w": torch.Size([3, 5])}], [1], 5)


def test_groups_follow_shapes_and_pack_size(tmp_path):
    spec = build_spec(None, [*TINY, "model.z_dim=2,4", "model.g_width=8,16", "seed=0,1"])
    jobs = [Job(p, tmp_path / p.id, RunPlan("start", p.cfg)) for p in expand(spec)]
    groups = plan_groups(jobs, pack_size=0, pad_latent=True)
    assert sorted(len(g) for g in groups) == [4, 4]  # one group per width; z_dims share a padded input
    assert all(len({j.point.cfg.model.g_width for j in g}) == 1 for g in groups)
    assert len(plan_groups(jobs, pack_size=0, pad_latent=False)) == 4
    assert sorted(len(g) for g in plan_groups(jobs, pack_size=3, pad_latent=True)) == [1, 1, 3, 3]


def test_packed_sweep_writes_ordinary_run_directories(tmp_path):
    spec = build_spec(None, [*TINY, "model.z_dim=2,4", "seed=0,1"])
    spec.backend = "packed"
    result = run_sweep(spec, tmp_path / "sw")
    assert result.trained == 4 and result.remaining == 0
    for row in result.rows:
        run = tmp_path / "sw" / row["run_dir"]
        assert row["state"] == "finished" and row["packed_models"] == 4 and row["step"] == 6
        assert RunDir(run).export().is_file() and RunDir(run).last_checkpoint.is_file()
        assert json.loads(RunDir(run).status.read_text())["state"] == "finished"


def test_interrupted_packed_group_resumes_from_member_checkpoints(tmp_path):
    spec = build_spec(None, [*TINY, "seed=0,1"])
    reference = run_sweep(spec, tmp_path / "seq")  # uninterrupted, sequential
    out = tmp_path / "packed"
    run_sweep(spec, out, stop_after_points=0)
    for point in expand(spec):  # as if the packed group was killed after its step-3 checkpoints
        train(point.cfg, run_dir=SweepDir(out).run(point.id).path, stop_after_steps=3, progress=False)
    spec.backend = "packed"
    result = run_sweep(spec, out)
    assert result.trained == 2 and result.remaining == 0
    for row, ref in zip(result.rows, reference.rows):
        assert row["packed_models"] == 2 and row["step"] == 6
        a = torch.load(RunDir(tmp_path / "seq" / ref["run_dir"]).last_checkpoint, weights_only=True)
        b = torch.load(RunDir(out / row["run_dir"]).last_checkpoint, weights_only=True)
        for name in a["G"]:
            torch.testing.assert_close(b["G"][name].float(), a["G"][name].float(), atol=ATOL, rtol=0)


def test_packed_refuses_what_it_cannot_batch_with_the_reason(tmp_path):
    cases = [(["train.adaptive_d_steps=true"], "own number of D steps"), (["train.loss=wgan-gp"], "gradient penalty"),
             (["model.d_spectral_norm=true"], "spectral norm")]
    for overrides, message in cases:
        with pytest.raises(GanlabError, match=message):
            PackedTrainer([load_config(None, TINY + overrides)], [tmp_path / "a"])


def test_packed_generator_ema_equals_sequential(tmp_path):
    cfgs = [load_config(None, TINY + ["train.steps=8", "train.ema_decay=0.9", "train.ema_start=3", f"seed={s}",
                                      f"model.z_dim={z}"]) for s, z in ((0, 4), (1, 2))]
    sequential = _sequential(cfgs, tmp_path)
    packed = PackedTrainer(cfgs, [tmp_path / f"packed{i}" for i in range(len(cfgs))])
    assert packed.run() == {0: None, 1: None}
    for seq, member in zip(sequential, packed.members):
        a, b = seq.ema.module.state_dict(), member.ema.module.state_dict()
        assert any(not torch.equal(a[k], seq.G.state_dict()[k]) for k in a)  # the average is not G itself
        for name in a:
            torch.testing.assert_close(b[name].float(), a[name].float(), atol=ATOL, rtol=0, msg=name)
        saved = torch.load(RunDir(member.run_dir).last_checkpoint, weights_only=True)["G_ema"]
        torch.testing.assert_close(saved["dense.0.weight"], b["dense.0.weight"])


def test_packed_sweep_evaluates_during_training_with_ema(tmp_path, digits_classifier):
    spec = build_spec(None, [*TINY, "data.limit=128", "train.steps=8", "train.ema_decay=0.5", "eval.every=1",
                             "eval.n=40", "eval.metrics=[[acc, cfd]]", "eval.bootstrap=0", "seed=0,1"])
    spec.backend = "packed"
    result = run_sweep(spec, tmp_path / "sw")
    assert result.remaining == 0
    for row in result.rows:
        assert row["packed_models"] == 2
        evals = [json.loads(line) for line in RunDir(tmp_path / "sw" / row["run_dir"]).metrics.read_text().splitlines()
                 if '"kind": "eval"' in line]
        assert [r["epoch"] for r in evals] == [1, 2]  # 4 batches of 32 an epoch, 8 iterations
        assert all(0 <= r["metrics"]["acc40"]["value"] <= 1 and r["metrics"]["cfd40_test"]["value"] > 0 for r in evals)


def test_stacked_adam_matches_torch_adam_per_model():
    from ganlab.sweeps.stacked_adam import StackedAdam

    g = torch.Generator().manual_seed(0)
    lrs, betas = [1e-3, 3e-4, 5e-2], [(0.5, 0.999), (0.0, 0.9), (0.9, 0.99)]
    start = torch.randn(3, 4, 5, generator=g)
    stacked = {"w": start.clone().requires_grad_()}
    adam = StackedAdam(stacked, lrs, betas)
    singles = [start[k].clone().requires_grad_() for k in range(3)]
    opts = [torch.optim.Adam([w], lr=lr, betas=b, foreach=False) for w, lr, b in zip(singles, lrs, betas)]
    for step in range(6):
        grads = torch.randn(3, 4, 5, generator=g) * 10.0 ** -step
        stacked["w"].grad = grads.clone()
        adam.step()
        for k, (w, opt) in enumerate(zip(singles, opts)):
            w.grad = grads[k].clone()
            opt.step()
        if step == 3:
            adam.set_lrs([lr / 2 for lr in lrs])
            for opt in opts:
                opt.param_groups[0]["lr"] /= 2
    for k, (w, opt) in enumerate(zip(singles, opts)):
        torch.testing.assert_close(stacked["w"][k], w, atol=1e-7, rtol=1e-6)
        torch.testing.assert_close(adam.model_state("w", k)["exp_avg_sq"], opt.state[w]["exp_avg_sq"])
        assert float(adam.model_state("w", k)["step"]) == float(opt.state[w]["step"]) == 6
