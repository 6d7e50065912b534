"""The fast path: the same training update (``ganlab.training.step.gan_update``), executed faster.

``train.fast_path`` picks how:

* ``eager``: plain PyTorch (the reference).
* ``compile``: G and D through ``torch.compile`` (inductor; CPU or CUDA), optimisers eager (fused Adam on CUDA).
* ``cudagraph``: the whole iteration (every D and G update, both Adam steps, the figures) captured once in a
  CUDA graph and replayed: static input buffers refilled each iteration from the data sampler and the device
  generator, fused capturable Adam with tensor learning rates (so schedules still apply), channels_last
  weights and inputs, and real + fake through D as one batch when D keeps no buffers.
* ``cpu``: the eager update with channels_last conv weights (oneDNN's preferred layout) and fused Adam: about
  1.2x eager fp32 on a 2-core AVX-512 CPU for the MNIST presets (``benchmarks/speed.py``). Measured there and
  left out because they did not win: ``torch.compile`` (0.9-1.0x), bf16 autocast (0.1x: these small convs run
  slower in bf16), foreach Adam (1.02x), real + fake through D as one batch (0.96x).
* ``auto``: ``cpu`` on a CPU, ``eager`` on CUDA. The CUDA paths have not yet passed their tests on a GPU
  (``tests/test_fastpath.py`` on a CUDA machine, recorded in ``benchmarks/results/``), so they run only when
  asked for by name.

A requested fast path that cannot be used is an error, never a silent fallback: if compiling or capturing
fails at the first iteration, the state that iteration touched is restored and the run stops with the
reason and the fix (``train.fast_path=eager``).
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional

import torch
import torch.nn as nn

from ganlab.errors import GanlabError
from ganlab.training.step import StepInputs

CUDA_GRAPH_WARMUP = 3  # eager iterations on a side stream before capture (their effects are undone)
COMPILE_BACKEND = "inductor"  # torch.compile backend of the compile mode ("aot_eager": capture only, for tests)


def resolve_mode(requested: str, device: torch.device, world_size: int = 1, varying_d_steps: bool = False) -> str:
    """The fast path a run uses: ``auto`` -> cpu on a CPU, else eager (see the module docstring); impossible
    requests refused."""
    if requested == "auto":
        return "cpu" if device.type == "cpu" else "eager"
    if requested == "cpu" and device.type != "cpu":
        raise GanlabError(f"train.fast_path=cpu is the CPU path but the device is {device}; use train.fast_path=auto "
                          f"or eager (or device=cpu)")
    if requested == "cudagraph" and varying_d_steps:
        raise GanlabError("train.fast_path=cudagraph captures a fixed number of D steps, but "
                          "train.adaptive_d_steps varies it; use train.fast_path=compile or eager")
    if requested == "cudagraph" and device.type != "cuda":
        raise GanlabError(f"train.fast_path=cudagraph needs a CUDA device (device is {device}); use "
                          f"train.fast_path=compile or eager")
    if requested == "cudagraph" and world_size > 1:
        raise GanlabError("train.fast_path=cudagraph runs in one process; under torchrun use train.fast_path=compile "
                          "or eager")
    return requested


def make_adam(params: Iterable[nn.Parameter], lr: float, betas: Iterable[float], mode: str,
              device: torch.device) -> torch.optim.Adam:
    """Adam as the mode needs it: fused + capturable with a tensor learning rate for cudagraph, fused for
    compile on CUDA and for the cpu path, torch's default otherwise."""
    betas = tuple(betas)
    if mode == "cudagraph":
        return torch.optim.Adam(params, lr=torch.tensor(lr, device=device), betas=betas, capturable=True, fused=True)
    if (mode == "compile" and device.type == "cuda") or mode == "cpu":
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    return torch.optim.Adam(params, lr=lr, betas=betas)


def load_optimizer_state(opt: torch.optim.Optimizer, state: dict) -> None:
    """Load a saved optimiser state but keep this optimiser's implementation (fused / capturable flags, tensor
    or float learning rate), so checkpoints move freely between the eager and the fast path."""
    kept = [{k: g[k] for k in ("fused", "capturable", "foreach") if k in g} for g in opt.param_groups]
    lrs = [g["lr"] for g in opt.param_groups]
    opt.load_state_dict(state)
    for group, flags, lr in zip(opt.param_groups, kept, lrs):
        group.update(flags)
        saved = float(group["lr"])
        if isinstance(lr, torch.Tensor):
            lr.fill_(saved)
            group["lr"] = lr
        else:
            group["lr"] = saved
        on_device = group.get("fused") or group.get("capturable")
        for p in group["params"]:
            s = opt.state.get(p)
            if s and "step" in s:
                s["step"] = s["step"].to(dtype=torch.float32, device=p.device if on_device else "cpu")


def to_channels_last(mode: str, device: torch.device, *modules: nn.Module) -> bool:
    """Switch the modules' 4-d weights to channels_last where the mode uses it (cudagraph on CUDA, cpu)."""
    if not ((mode == "cudagraph" and device.type == "cuda") or mode == "cpu"):
        return False
    for m in modules:
        m.to(memory_format=torch.channels_last)
    return True


def compiled(module: Callable) -> Callable:
    """``torch.compile`` of a module (static shapes; ``COMPILE_BACKEND``)."""
    return torch.compile(module, dynamic=False, backend=COMPILE_BACKEND)


def _describe(error: BaseException) -> str:
    """'Type: first line' of an error and of its root cause (compilers wrap the real reason)."""
    def line(e: BaseException) -> str:
        text = str(e).strip()
        return f"{type(e).__name__}: {text.splitlines()[0] if text else ''}"

    root = error
    while (inner := getattr(root, "inner_exception", None) or root.__cause__) is not None:
        root = inner
    return line(error) if root is error else f"{line(error)} {line(root)}"


class _Snapshot:
    """Copies of module state, optimiser state and extra tensors, restorable in place (same storage)."""

    def __init__(self, modules: list[nn.Module], optimizers: list[torch.optim.Optimizer],
                 tensors: list[torch.Tensor]):
        self.modules = [(m, {k: v.clone() for k, v in m.state_dict().items()}) for m in modules]
        self.optimizers = [(o, {p: {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in s.items()}
                                for p, s in o.state.items()}) for o in optimizers]
        self.tensors = [(t, t.clone()) for t in tensors]

    @torch.no_grad()
    def restore(self, keep_new_state: bool) -> None:
        """Put everything back. Optimiser state created since the snapshot is zeroed in place when
        ``keep_new_state`` (Adam's fresh state is all zeros; a captured graph holds its addresses), else dropped."""
        for m, saved in self.modules:
            for k, v in m.state_dict().items():
                v.copy_(saved[k])
        for o, saved in self.optimizers:
            for p in list(o.state):
                if p in saved:
                    for k, v in o.state[p].items():
                        if isinstance(v, torch.Tensor):
                            v.copy_(saved[p][k])
                        else:
                            o.state[p][k] = saved[p][k]
                elif keep_new_state:
                    for v in o.state[p].values():
                        if isinstance(v, torch.Tensor):
                            v.zero_()
                else:
                    del o.state[p]
        for t, v in self.tensors:
            t.copy_(v)


class StepRunner:
    """Calls the iteration update eagerly, compiled, or as the replay of one captured CUDA graph.

    ``eager`` and ``fast`` are the same update (``gan_update`` bound to its networks) over the eager and the
    fast-path networks. ``modules``, ``optimizers`` and ``tensors`` are all the state an update changes (for
    undoing a failed first iteration and the warm-up before a capture). The figures a captured graph returns
    are overwritten by the next replay: read them before the next call.
    """

    def __init__(self, mode: str, eager: Callable[[StepInputs], torch.Tensor],
                 fast: Optional[Callable[[StepInputs], torch.Tensor]], modules: list[nn.Module],
                 optimizers: list[torch.optim.Optimizer], tensors: list[torch.Tensor], channels_last: bool = False):
        self.mode = mode
        self.eager, self.fast = eager, fast
        self.modules, self.optimizers, self.tensors = modules, optimizers, tensors
        self.channels_last = channels_last
        self._ready = False
        self._graph: Optional[torch.cuda.CUDAGraph] = None
        self._static: list[torch.Tensor] = []
        self._out: Optional[torch.Tensor] = None
        self._lrs = [(o, i, g["lr"]) for o in optimizers for i, g in enumerate(o.param_groups)
                     if isinstance(g["lr"], torch.Tensor)]  # (optimiser, group index, the tensor a graph reads)

    def invalidate(self) -> None:
        """Forget the compiled/captured state (after state was loaded from outside); the next call redoes it."""
        self._ready, self._graph, self._static, self._out = False, None, [], None

    def __call__(self, inputs: StepInputs) -> torch.Tensor:
        if self.mode in ("eager", "cpu"):  # the cpu path differs in weight layout and optimiser, not in the call
            return self.eager(inputs)
        if self._ready:
            return self._replay(inputs) if self.mode == "cudagraph" else self.fast(inputs)  # type: ignore[misc]
        snapshot = _Snapshot(self.modules, self.optimizers, self.tensors)
        try:
            out = self._capture(inputs, snapshot) if self.mode == "cudagraph" else self.fast(inputs)  # type: ignore[misc]
        except Exception as e:  # a model the compiler or the capture cannot take: undo the iteration, stop
            snapshot.restore(keep_new_state=False)
            self.invalidate()
            raise GanlabError(f"train.fast_path={self.mode} cannot run this model ({_describe(e)}); train it with "
                              f"train.fast_path=eager") from None
        self._ready = True
        return out

    # ----- CUDA graph ---------------------------------------------------------------------------------
    def _bind_lrs(self) -> None:
        """Keep tensor learning rates the graph reads: a schedule that wrote a float is copied into the tensor."""
        for opt, i, lr in self._lrs:
            group = opt.param_groups[i]  # looked up each time: load_state_dict replaces the group dicts
            if group["lr"] is not lr:
                lr.fill_(float(group["lr"]))
                group["lr"] = lr

    def _replay(self, inputs: StepInputs) -> torch.Tensor:
        self._bind_lrs()
        for static, value in zip(self._static, inputs.tensors()):
            static.copy_(value)
        assert self._graph is not None and self._out is not None
        self._graph.replay()
        return self._out

    def _capture(self, inputs: StepInputs, snapshot: _Snapshot) -> torch.Tensor:
        assert self.fast is not None
        self._bind_lrs()
        fmt = torch.channels_last if self.channels_last else torch.preserve_format
        self._static = [torch.empty_like(v, memory_format=fmt if v.dim() == 4 else torch.preserve_format).copy_(v)
                        for v in inputs.tensors()]
        static_inputs = inputs.like(self._static)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up: creates optimiser state, picks kernels; undone below
            for _ in range(CUDA_GRAPH_WARMUP):
                self.fast(static_inputs)
        torch.cuda.current_stream().wait_stream(side)
        snapshot.restore(keep_new_state=True)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = self.fast(static_inputs)
        graph.replay()
        self._graph, self._out = graph, out
        return out
