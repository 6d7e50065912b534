"""One run over several processes: ``torchrun --nproc_per_node N -m ganlab train ...`` with DDP.

Each process (rank) trains on its own slice of every global batch and its own noise; gradients are
averaged by DistributedDataParallel, so all ranks keep identical weights. Rank 0 alone writes the run
directory (config, metrics, grids, checkpoints, exports). BatchNorm buffers follow rank 0's (DDP
broadcasts them at each forward); SyncBatchNorm is not used.
"""

from __future__ import annotations

import contextlib
import gc
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeVar

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel

from ganlab.errors import GanlabError

T = TypeVar("T")


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in the run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """The one process that writes the run directory."""
        return self.rank == 0


def launched_by_torchrun() -> bool:
    """True when torchrun started this process as one of several."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def current() -> DistContext:
    """This process's rank and world size (rank 0 of 1 without a process group)."""
    if dist.is_available() and dist.is_initialized():
        return DistContext(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    return DistContext()


@contextlib.contextmanager
def session(device_type: str) -> Iterator[DistContext]:
    """Under torchrun with several processes: join the process group (nccl on CUDA, gloo on the CPU) from the
    torchrun environment, and leave it at exit. Otherwise a no-op single-process context."""
    if not launched_by_torchrun() or dist.is_initialized():
        yield current()
        return
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device_type == "cuda":
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    try:
        yield current()
        dist.barrier()  # no rank tears the group down while another still has gloo work in flight
    finally:
        # The trainer sits in reference cycles: collect it (and the DDP modules holding the group) now. Left to the
        # interpreter's exit, gloo's threads free its tensors while Python shuts down and the process aborts
        # ("terminate called without an active exception").
        gc.collect()
        dist.destroy_process_group()


def rank_device(device: torch.device, ctx: DistContext) -> torch.device:
    """The device of this rank: cuda:LOCAL_RANK for a CUDA run under torchrun."""
    if not ctx.enabled or device.type != "cuda":
        return device
    if device.index is not None and device.index != ctx.local_rank:
        raise GanlabError(f"device={device} under torchrun: every process would share it; use device=auto or cuda "
                          f"(process i takes cuda:i)")
    return torch.device("cuda", ctx.local_rank)


def noise_seed(seed: int, rank: int) -> int:
    """The seed of a rank's noise and augmentation generator (rank 0: the single-process seed + 1)."""
    return seed + 1 + rank * 1_000_003


def on_main(ctx: DistContext, fn: Callable[[], T]) -> T:
    """Run ``fn`` on rank 0 only and hand its result (or its GanlabError) to every rank."""
    if not ctx.enabled:
        return fn()
    payload: list[Any] = [None]
    error: GanlabError | None = None
    if ctx.is_main:
        try:
            payload = [("ok", fn())]
        except GanlabError as e:
            payload, error = [("error", str(e))], e
    dist.broadcast_object_list(payload, src=0)
    if error is not None:
        raise error
    kind, value = payload[0]
    if kind == "error":
        raise GanlabError(value)
    return value


def wrap(module: nn.Module, ctx: DistContext, device: torch.device) -> nn.Module:
    """The module in DistributedDataParallel when several ranks train, else itself."""
    if not ctx.enabled:
        return module
    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)


def mean_over_ranks(ctx: DistContext, values: torch.Tensor) -> torch.Tensor:
    """The mean of a tensor over the ranks (itself in one process)."""
    if not ctx.enabled:
        return values
    out = values.clone()
    dist.all_reduce(out)
    return out / ctx.world_size


def first_over_ranks(ctx: DistContext, index: int) -> int:
    """The smallest non-negative ``index`` over the ranks (-1 where every rank has -1)."""
    if not ctx.enabled:
        return index
    big = 2 ** 62
    t = torch.tensor(index if index >= 0 else big, dtype=torch.long, device=_collective_device())
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return int(t.item()) if t.item() < big else -1


def any_rank(ctx: DistContext, flag: bool) -> bool:
    """True when ``flag`` is true on some rank (so all ranks take the same decision)."""
    if not ctx.enabled:
        return flag
    t = torch.tensor(int(flag), device=_collective_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def gather(ctx: DistContext, obj: T) -> list[T]:
    """``obj`` of every rank, in rank order (``[obj]`` in one process)."""
    if not ctx.enabled:
        return [obj]
    out: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out


def fingerprint(modules: list[nn.Module]) -> torch.Tensor:
    """Per-parameter float64 sum and sum of squares, on the CPU: equal on every rank while DDP keeps them in sync.
    Summed in the logical (row-major) order, so a channels_last copy of the same weights gives the same sums."""
    rows = [torch.stack([w.sum(), w.pow(2).sum()])
            for m in modules for w in (p.detach().double().contiguous() for p in m.parameters())]
    return torch.cat(rows).cpu()


def check_in_sync(ctx: DistContext, modules: list[nn.Module]) -> torch.Tensor:
    """The weight fingerprints of all ranks, (world_size, 2 * parameters); refuses weights that differ."""
    prints = torch.stack(gather(ctx, fingerprint(modules)))
    if not torch.equal(prints, prints[:1].expand_as(prints)):
        bad = [r for r in range(ctx.world_size) if not torch.equal(prints[r], prints[0])]
        raise GanlabError(f"the weights of rank(s) {bad} differ from rank 0's: the DDP ranks went out of sync; "
                          f"this is a ganlab bug, please report it with the run's config")
    return prints


def _collective_device() -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")
