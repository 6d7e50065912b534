"""Choosing the torch device from a config or command-line string, and the CPU threads to use."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

from ganlab.errors import GanlabError


def resolve_device(name: str | torch.device) -> torch.device:
    """'auto' -> cuda when available, else cpu; anything else as given (cuda refused when absent)."""
    if str(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanlabError(f"device={name} but no CUDA device is available; use device=cpu or device=auto")
    return device


THREADS_ENV = "OMP_NUM_THREADS"  # set by the user: ganlab keeps their thread count


def allowed_cores() -> int:
    """The CPU cores this process may run on (its affinity mask: taskset, cgroups cpusets, job schedulers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity call on this platform (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def use_allowed_cores() -> int:
    """Run torch's CPU kernels on one thread per allowed core, unless the user set ``OMP_NUM_THREADS``;
    returns the thread count in force."""
    if not os.environ.get(THREADS_ENV):
        torch.set_num_threads(allowed_cores())
    return torch.get_num_threads()


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what the platform module says: two runs of the same seeds
    on different CPUs can train differently (other float kernels), so studies and benchmarks record it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
