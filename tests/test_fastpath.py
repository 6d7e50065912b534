"""The fast path computes what the eager loop computes.

CPU: torch.compile of the whole update with a capture-only backend (aot_eager: forward and backward
graphs traced, run op by op) equals eager bit for bit; inductor (slow tier) within float tolerance;
a compile failure stops the run with the reason after undoing what the failed iteration did.
CUDA (skipped without a GPU; run ``python -m pytest tests/test_fastpath.py`` on the GPU machine): the
captured CUDA graph equals the same update run uncaptured, and tracks the plain eager loop.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganlab.config import load_config
from ganlab.errors import GanlabError
from ganlab.training import fastpath
from ganlab.training.checkpoint import load_checkpoint
from ganlab.training.metrics_log import read_metrics
from ganlab.training.run import train
from ganlab.training.step import STATS, draw_inputs
from ganlab.training.trainer import Trainer

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

# 16x16 digits: D has two blocks, so d_batchnorm puts a BatchNorm (a buffer) in it and the fast path keeps
# real and fake as separate D batches; without it D is stateless and they go through D as one batch.
STATEFUL_D = ["data.resolution=16", "model.d_batchnorm=true"]
EVERY_ITERATION = "train.log_every=1"  # one metrics.jsonl record per iteration: its own stats
EXTRAS = ["train.d_steps=2", "train.g_steps=2", "train.l1_weight=0.5", "data.augment.hflip=true",
          "data.augment.crop_padding=1", "model.conditioning=embedding"]


def _state(trainer: Trainer) -> dict[str, torch.Tensor]:
    out = {f"G.{k}": v for k, v in trainer.G.state_dict().items()}
    out.update({f"D.{k}": v for k, v in trainer.D.state_dict().items()})
    for name, opt in (("opt_g", trainer.opt_g), ("opt_d", trainer.opt_d)):
        for i, s in enumerate(opt.state.values()):
            out.update({f"{name}.{i}.{k}": v for k, v in s.items()})
    return {k: v.detach().float().cpu().clone() for k, v in out.items()}


def _run(trainer: Trainer, steps: int) -> list[list[float]]:
    """Train ``steps`` iterations with the real loop; the stats of each, as logged (the config logs every one)."""
    trainer.run(stop_after_steps=steps, progress=False)
    return [[record[k] for k in STATS] for record in read_metrics(trainer.run_dir) if "loss_d" in record]


def _train(overrides: list[str], mode: str, steps: int, tmp_path: Path) -> tuple[list[list[float]], dict, Trainer]:
    trainer = Trainer(load_config(None, overrides + [f"train.fast_path={mode}", EVERY_ITERATION]), tmp_path / mode)
    return _run(trainer, steps), _state(trainer), trainer


@pytest.fixture
def capture_only_compile(monkeypatch):
    """torch.compile that captures forward and backward graphs but runs them op by op (fast on 2 cores)."""
    monkeypatch.setattr(fastpath, "COMPILE_BACKEND", "aot_eager")
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


@pytest.mark.parametrize("extra", [[], EXTRAS])
def test_captured_step_equals_eager_bit_for_bit(tmp_path, tiny_overrides, capture_only_compile, extra):
    ov = tiny_overrides + STATEFUL_D + extra
    eager_losses, eager_state, _ = _train(ov, "eager", 4, tmp_path)
    fast_losses, fast_state, trainer = _train(ov, "compile", 4, tmp_path)
    assert trainer.step_fn.mode == "compile"
    assert fast_losses == eager_losses
    assert eager_state.keys() == fast_state.keys()
    for k in eager_state:
        assert torch.equal(eager_state[k], fast_state[k]), k


def test_joined_real_fake_batch_matches_eager(tmp_path, tiny_overrides, capture_only_compile):
    # a D without buffers takes real and fake as one batch on the fast path: the same function, other kernels
    eager_losses, eager_state, _ = _train(tiny_overrides, "eager", 4, tmp_path)
    fast_losses, fast_state, trainer = _train(tiny_overrides, "compile", 4, tmp_path)
    step = trainer.step_fn
    assert step.mode == "compile" and step.fast.args[0].merge_d_batches  # type: ignore[union-attr]
    torch.testing.assert_close(torch.tensor(fast_losses), torch.tensor(eager_losses), rtol=1e-5, atol=1e-6)
    for k in eager_state:
        torch.testing.assert_close(fast_state[k], eager_state[k], rtol=1e-5, atol=1e-6, msg=k)


@pytest.mark.slow  # inductor compiles G and D forward and backward: about 90 s on 2 busy cores
def test_inductor_step_matches_eager(tmp_path, tiny_overrides):
    torch._dynamo.reset()
    eager_losses, eager_state, _ = _train(tiny_overrides + STATEFUL_D, "eager", 5, tmp_path)
    fast_losses, fast_state, trainer = _train(tiny_overrides + STATEFUL_D, "compile", 5, tmp_path)
    assert trainer.step_fn.mode == "compile"
    torch.testing.assert_close(torch.tensor(fast_losses), torch.tensor(eager_losses), rtol=1e-5, atol=1e-6)
    for k in eager_state:
        torch.testing.assert_close(fast_state[k], eager_state[k], rtol=1e-4, atol=1e-6, msg=k)


@pytest.mark.parametrize("extra", [[], STATEFUL_D + EXTRAS])
def test_cpu_path_matches_eager(tmp_path, tiny_overrides, extra):
    # channels_last conv weights and fused Adam: the same update in another memory layout and optimiser kernel
    eager_losses, eager_state, _ = _train(tiny_overrides + extra, "eager", 5, tmp_path)
    cpu_losses, cpu_state, trainer = _train(tiny_overrides + extra, "auto", 5, tmp_path)
    assert trainer.step_fn.mode == "cpu"
    conv = next(m for m in trainer.D.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) and not conv.weight.is_contiguous()
    assert all(g["fused"] for g in trainer.opt_d.param_groups + trainer.opt_g.param_groups)
    torch.testing.assert_close(torch.tensor(cpu_losses), torch.tensor(eager_losses), rtol=1e-5, atol=1e-6)
    assert eager_state.keys() == cpu_state.keys()
    for k in eager_state:
        torch.testing.assert_close(cpu_state[k], eager_state[k], rtol=1e-4, atol=1e-6, msg=k)


def test_compile_failure_is_an_error_and_undoes_the_failed_iteration(tmp_path, tiny_overrides, monkeypatch):
    graphs = []

    def flaky_backend(gm, example_inputs):  # compiles G's graph, fails on the next one (D's)
        graphs.append(gm)
        if len(graphs) > 1:
            raise RuntimeError("this backend cannot take the discriminator")
        return gm.forward

    torch._dynamo.reset()
    monkeypatch.setattr(fastpath, "COMPILE_BACKEND", flaky_backend)
    ov = tiny_overrides + STATEFUL_D
    trainer = Trainer(load_config(None, ov + ["train.fast_path=compile"]), tmp_path / "compile")
    before = _state(trainer)
    with pytest.raises(GanlabError, match="compile cannot run this model .*cannot take the discriminator.*"
                                          "train.fast_path=eager"):
        _run(trainer, 1)
    torch._dynamo.reset()
    assert len(graphs) == 2  # G ran compiled (its BatchNorm statistics moved) before D failed
    after = _state(trainer)
    assert after.keys() == before.keys() and all(torch.equal(before[k], after[k]) for k in before)


def test_modes_resolve_and_impossible_ones_are_refused(tiny_overrides):
    cpu = torch.device("cpu")
    assert fastpath.resolve_mode("auto", cpu) == "cpu"
    assert fastpath.resolve_mode("auto", torch.device("cuda", 0)) == "eager"  # until the CUDA tests pass on a GPU
    with pytest.raises(GanlabError, match="fast_path=cpu is the CPU path but the device is cuda:0"):
        fastpath.resolve_mode("cpu", torch.device("cuda", 0))
    assert fastpath.resolve_mode("compile", cpu) == "compile"
    with pytest.raises(GanlabError, match="cudagraph needs a CUDA device"):
        Trainer(load_config(None, tiny_overrides + ["train.fast_path=cudagraph"]), Path("unused"))
    with pytest.raises(GanlabError, match="cudagraph runs in one process"):
        fastpath.resolve_mode("cudagraph", torch.device("cuda", 0), world_size=2)
    with pytest.raises(GanlabError, match="train.fast_path='fast' is not one of auto, eager, cpu, compile, cudagraph"):
        load_config(None, ["train.fast_path=fast"])


def test_optimizer_state_moves_between_adam_implementations():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(5))
    plain = torch.optim.Adam([w], lr=1e-2, betas=(0.5, 0.999))
    fused = torch.optim.Adam([torch.nn.Parameter(w.detach().clone())], lr=torch.tensor(1.0), fused=True)
    lr_tensor = fused.param_groups[0]["lr"]
    for _ in range(3):
        w.grad = torch.randn(5)
        plain.step()
    fastpath.load_optimizer_state(fused, plain.state_dict())
    group = fused.param_groups[0]
    assert group["fused"] and group["lr"] is lr_tensor and float(lr_tensor) == pytest.approx(1e-2)
    assert group["betas"] == (0.5, 0.999)
    p = group["params"][0]
    assert fused.state[p]["step"].dtype == torch.float32 and float(fused.state[p]["step"]) == 3
    fastpath.load_optimizer_state(plain, fused.state_dict())
    assert not plain.param_groups[0]["fused"] and isinstance(plain.param_groups[0]["lr"], float)
    assert plain.state[w]["step"].device.type == "cpu"


# ----- CUDA (the GPU machine) ----------------------------------------------------------------------------
CUDA = ["device=cuda", "train.fast_path=cudagraph"]
CUDA_EXTRAS = [e for e in EXTRAS if "embedding" not in e]  # embedding backward adds atomically on CUDA


@pytest.fixture
def deterministic_cuda():
    """Same kernels, same sums: cuDNN deterministic, no TF32."""
    old = torch.backends.cudnn.deterministic, torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.deterministic, torch.backends.cudnn.allow_tf32 = True, False
    yield
    torch.backends.cudnn.deterministic, torch.backends.cudnn.allow_tf32 = old


def _on_cuda(overrides: list[str]) -> list[str]:
    return [o for o in overrides if not o.startswith("device=")] + ["device=cuda"]


@needs_cuda
@pytest.mark.parametrize("extra", [STATEFUL_D, STATEFUL_D + CUDA_EXTRAS, []])
def test_cuda_graph_equals_the_same_update_uncaptured(tmp_path, tiny_overrides, deterministic_cuda, extra):
    cfg = load_config(None, _on_cuda(tiny_overrides) + extra + ["train.fast_path=cudagraph", EVERY_ITERATION])
    uncaptured = Trainer(cfg, tmp_path / "a")
    uncaptured.step_fn.mode, uncaptured.step_fn.eager = "eager", uncaptured.step_fn.fast  # same update, no graph
    captured = Trainer(cfg, tmp_path / "b")
    losses = {name: _run(trainer, 6) for name, trainer in (("uncaptured", uncaptured), ("captured", captured))}
    assert captured.step_fn.mode == "cudagraph"
    assert losses["captured"] == losses["uncaptured"]
    a, b = _state(uncaptured), _state(captured)
    for k in a:
        assert torch.equal(a[k], b[k]), k


@needs_cuda
@pytest.mark.parametrize("extra", [[], STATEFUL_D + ["train.lr_step_epochs=1", "train.lr_step_factor=0.5"]])
def test_cuda_graph_run_tracks_plain_eager_run(tmp_path, tiny_overrides, deterministic_cuda, extra):
    # whole runs (2 epochs, a learning-rate step between them in the second case): checkpoints agree
    ov = _on_cuda(tiny_overrides) + ["train.steps=0", "train.epochs=2"] + extra
    runs = {m: train(load_config(None, ov + [f"train.fast_path={m}"]), run_dir=tmp_path / m, progress=False)
            for m in ("eager", "cudagraph")}
    a, b = load_checkpoint(runs["eager"].run_dir), load_checkpoint(runs["cudagraph"].run_dir)
    assert a["step"] == b["step"] == runs["eager"].step
    for net in ("G", "D"):
        for k in a[net]:
            # Adam moves a weight by about lr = 2e-4 a step: a learning rate left unapplied would show here
            torch.testing.assert_close(b[net][k].float(), a[net][k].float(), rtol=1e-2, atol=1e-3, msg=f"{net}.{k}")
    lr = [g["lr"] for g in b["opt_g"]["param_groups"]]
    assert float(lr[0]) == pytest.approx(a["opt_g"]["param_groups"][0]["lr"])


@needs_cuda
def test_cuda_graph_resume_equals_uninterrupted(tmp_path, tiny_overrides, deterministic_cuda):
    ov = _on_cuda(tiny_overrides) + CUDA + ["train.steps=0", "train.epochs=2", "train.batch_size=128"]
    cfg = load_config(None, ov)
    whole = train(cfg, run_dir=tmp_path / "whole", progress=False)
    train(cfg, run_dir=tmp_path / "parts", stop_after_steps=5, progress=False)
    second = train(None, resume=tmp_path / "parts", progress=False)
    a, b = load_checkpoint(whole.run_dir), load_checkpoint(second.run_dir)
    for net in ("G", "D"):
        for k in a[net]:
            assert torch.equal(a[net][k], b[net][k]), f"{net}.{k}"


def test_learning_rate_a_graph_reads_follows_schedules_and_loaded_state():
    w = torch.nn.Parameter(torch.randn(3))
    opt = torch.optim.Adam([w], lr=torch.tensor(0.1), fused=True)  # as the cudagraph path builds it (CPU here)
    lr = opt.param_groups[0]["lr"]
    runner = fastpath.StepRunner("cudagraph", lambda i: i, lambda i: i, [], [opt], [])
    opt.load_state_dict({**opt.state_dict(), "param_groups": [{**opt.param_groups[0], "lr": 0.05}]})
    runner._bind_lrs()  # before each replay
    assert opt.param_groups[0]["lr"] is lr and float(lr) == pytest.approx(0.05)
    opt.param_groups[0]["lr"] = 0.025  # a schedule that writes floats
    runner._bind_lrs()
    assert opt.param_groups[0]["lr"] is lr and float(lr) == pytest.approx(0.025)


def test_warm_up_before_a_capture_is_undone_exactly(tmp_path, tiny_overrides):
    # what the CUDA-graph path does before capturing: run real updates, then put every tensor back in place
    # (Adam's state created meanwhile zeroed, its storage kept for the graph); training then equals a fresh run
    ov = tiny_overrides + STATEFUL_D + ["train.fast_path=eager"]
    fresh_losses, fresh_state, _ = _train(ov[:-1], "eager", 3, tmp_path / "fresh")
    trainer = Trainer(load_config(None, ov + [EVERY_ITERATION]), tmp_path / "warm")
    runner = trainer.step_fn
    snapshot = fastpath._Snapshot(runner.modules, runner.optimizers, runner.tensors)
    warm = draw_inputs(trainer.sampler, torch.Generator().manual_seed(99), 0, 1, 1, trainer.cfg.model.z_dim)
    for _ in range(3):
        runner.eager(warm)
    exp_avg = trainer.opt_g.state[next(trainer.G.parameters())]["exp_avg"]
    snapshot.restore(keep_new_state=True)
    assert trainer.opt_g.state[next(trainer.G.parameters())]["exp_avg"] is exp_avg  # same storage
    assert _run(trainer, 3) == fresh_losses
    state = _state(trainer)
    for k in fresh_state:
        assert torch.equal(fresh_state[k], state[k]), k
