"""Training controls: EMA, the adaptive discriminator advantage, LR schedules, gradient norms, and an exact
resume of a run that uses all of them."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from ganlab.config import TrainConfig, load_config
from ganlab.folders import RunDir
from ganlab.training.advantage import DiscriminatorAdvantage
from ganlab.training.checkpoint import load_checkpoint
from ganlab.training.ema import GeneratorEMA
from ganlab.training.gradnorm import grad_norm
from ganlab.training.metrics_log import read_metrics
from ganlab.training.run import train
from ganlab.training.schedule import lr_factor


def _tiny_generator() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def test_ema_update_formula_and_buffer_copy():
    torch.manual_seed(0)
    g = _tiny_generator()
    ema = GeneratorEMA(g, decay=0.9, start=0)
    before = [p.detach().clone() for p in ema.module.parameters()]
    with torch.no_grad():
        for p in g.parameters():
            p.add_(torch.randn_like(p))
    g(torch.randn(5, 3))  # moves the BatchNorm running statistics
    ema.update(g, step=0)
    for old, new, p in zip(before, ema.module.parameters(), g.parameters()):
        torch.testing.assert_close(new, 0.9 * old + 0.1 * p.detach())
    for b_ema, b in zip(ema.module.buffers(), g.buffers()):
        assert torch.equal(b_ema, b)
    assert not any(p.requires_grad for p in ema.module.parameters())


def test_ema_copies_the_generator_before_its_start():
    g = _tiny_generator()
    ema = GeneratorEMA(g, decay=0.999, start=10)
    with torch.no_grad():
        g[0].weight.fill_(3.0)
    ema.update(g, step=9)
    assert torch.equal(ema.module[0].weight, g[0].weight)
    with torch.no_grad():
        g[0].weight.fill_(4.0)
    ema.update(g, step=10)
    torch.testing.assert_close(ema.module[0].weight, torch.full_like(g[0].weight, 3.001))


def _feed(adv: DiscriminatorAdvantage, accuracies: list[float], start_step: int = 0) -> list[int]:
    """Observe one accuracy per iteration; the D steps in force after each."""
    out = []
    for i, a in enumerate(accuracies, start=start_step + 1):
        adv.observe(torch.tensor(a), step=i)
        out.append(adv.d_steps)
    return out


def test_adaptive_rule_raises_d_steps_under_the_threshold_and_resets_above():
    cfg = TrainConfig(d_steps=1, adaptive_d_steps=True, adaptive_threshold=0.8, adaptive_every=2,
                      adaptive_max_d_steps=3)
    adv = DiscriminatorAdvantage(cfg, iters_per_epoch=100)
    # windows of 2 iterations: means 0.5, 0.7, 0.79, 0.6 -> 2, 3, 3 (capped), 3; then 0.85 -> back to 1
    steps = _feed(adv, [0.4, 0.6, 0.7, 0.7, 0.78, 0.8, 0.6, 0.6, 0.9, 0.8])
    assert steps == [1, 2, 2, 3, 3, 3, 3, 3, 3, 1]


def test_adaptive_rule_checks_at_epoch_ends_by_default_and_resumes_mid_window():
    cfg = TrainConfig(d_steps=2, adaptive_d_steps=True, adaptive_threshold=0.5)
    adv = DiscriminatorAdvantage(cfg, iters_per_epoch=4)
    assert _feed(adv, [0.1, 0.2, 0.3]) == [2, 2, 2]
    saved = adv.state_dict()
    again = DiscriminatorAdvantage(cfg, iters_per_epoch=4)
    again.load_state_dict(saved)
    assert _feed(again, [0.2], start_step=3) == [3]  # epoch end: mean 0.2 < 0.5
    assert _feed(again, [0.9, 0.9, 0.9, 0.1], start_step=4) == [3, 3, 3, 2]  # mean 0.7 >= 0.5: back to base


def test_fixed_advantage_never_moves():
    adv = DiscriminatorAdvantage(TrainConfig(d_steps=9), iters_per_epoch=2)
    assert _feed(adv, [0.0] * 6) == [9] * 6


def test_lr_schedules():
    step = TrainConfig(lr_schedule="step", lr_step_epochs=2, lr_step_factor=0.5)
    assert [lr_factor(step, s, 10, 100) for s in (0, 19, 20, 39, 40, 99)] == [1, 1, 0.5, 0.5, 0.25, 0.0625]
    assert lr_factor(TrainConfig(lr_step_epochs=0), 50, 10, 100) == 1.0
    linear = TrainConfig(lr_schedule="linear", lr_step_epochs=2)
    assert [lr_factor(linear, s, 10, 100) for s in (0, 50, 99)] == [1.0, 0.5, pytest.approx(0.01)]
    assert lr_factor(TrainConfig(lr_schedule="none", lr_step_epochs=1), 50, 10, 100) == 1.0


def test_grad_norm_is_the_global_l2_norm():
    m = nn.Linear(2, 1)
    m.weight.grad = torch.tensor([[3.0, 0.0]])
    m.bias.grad = torch.tensor([4.0])
    assert grad_norm(m.parameters()).item() == pytest.approx(5.0)
    assert grad_norm(nn.Linear(2, 1).parameters()).item() == 0.0  # no gradients yet


CONTROLS = ["model.family=resnet", "model.g_width=8", "model.d_width=8", "model.z_dim=8", "model.g_cond=cbn",
            "model.d_cond=projection", "model.d_spectral_norm=true", "model.d_extra_blocks=1",
            "data.name=digits", "data.limit=160", "train.batch_size=16",
            "train.steps=6", "train.log_every=2", "train.loss=wgan-gp", "train.ema_decay=0.8",
            "train.adaptive_d_steps=true", "train.adaptive_every=3", "train.adaptive_threshold=0.99",
            "train.adaptive_max_d_steps=2", "train.lr_schedule=linear", "device=cpu"]


def test_resume_with_all_controls_equals_an_uninterrupted_run(tmp_path, data_root):
    cfg = load_config(None, CONTROLS + [f"data.root={data_root}"])
    train(cfg, run_dir=tmp_path / "whole", progress=False)
    train(cfg, run_dir=tmp_path / "parts", stop_after_steps=2, progress=False)  # mid adaptive window
    result = train(resume=tmp_path / "parts", progress=False)
    assert result.finished and result.step == 6
    whole, parts = load_checkpoint(tmp_path / "whole"), load_checkpoint(tmp_path / "parts")
    assert whole["batch_index"] == parts["batch_index"] == 1 + 1 + 1 + 2 + 2 + 2  # adaptive: 2 after step 3
    assert whole["advantage"]["d_steps"] == parts["advantage"]["d_steps"]
    for key in ("G", "D", "G_ema"):
        for name, tensor in whole[key].items():
            assert torch.equal(tensor, parts[key][name]), f"{key}.{name} differs after resume"
    records = list(read_metrics(tmp_path / "whole"))
    resumed = list(read_metrics(tmp_path / "parts"))
    assert [r["loss_d"] for r in records] == [r["loss_d"] for r in resumed]
    assert all(r["grad_norm_d"] > 0 and r["grad_norm_g"] > 0 for r in records)
    assert [r["d_steps"] for r in records] == [1, 1.5, 2]
    assert records[-1]["lr_g"] == pytest.approx(cfg.train.lr_g / 6)  # linear decay, last iteration


def test_export_is_the_ema_generator(tmp_path, data_root):
    from safetensors.torch import load_file

    cfg = load_config(None, CONTROLS + [f"data.root={data_root}", "train.steps=3"])
    train(cfg, run_dir=tmp_path / "run", progress=False)
    state = load_checkpoint(tmp_path / "run")
    exported = load_file(str(RunDir(tmp_path / "run").export()))
    assert all(torch.equal(exported[k], v) for k, v in state["G_ema"].items())
    assert any(not torch.equal(exported[k], v) for k, v in state["G"].items())
