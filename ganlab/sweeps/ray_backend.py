"""The Ray backend: each point is a Ray task holding one GPU (or one CPU where the point runs on the CPU).

A local Ray instance is started by default; pass an address (``--address ray://HOST:10001`` or
``auto``) to use an existing cluster, whose workers must see the sweep directory (a shared file
system) and have ganlab installed. Install with ``pip install 'ganlab[ray]'``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import torch

from ganlab.config import CACHE_ENV, DATA_ENV, to_dict
from ganlab.errors import GanlabError
from ganlab.sweeps.jobs import Job, OnDone, OnStart
from ganlab.sweeps.sequential import train_point_data


def _import_ray() -> Any:
    try:
        import ray  # an optional dependency: imported only when this backend is chosen
    except ImportError:
        raise GanlabError("backend ray needs the ray package: pip install 'ganlab[ray]' (or use backend: "
                          "sequential / packed)") from None
    return ray


def _runtime_env() -> dict[str, Any]:
    """Workers import this very ganlab (the driver's source tree) and see the same data and cache folders."""
    source_root = str(Path(__file__).resolve().parents[2])  # the folder holding ganlab/
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [source_root, os.environ.get("PYTHONPATH")]))}
    env.update({k: os.environ[k] for k in (DATA_ENV, CACHE_ENV) if k in os.environ})
    return {"env_vars": env}


def _wants_gpu(job: Job) -> bool:
    device = job.point.cfg.device
    return device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())


def run_ray(jobs: list[Job], on_start: OnStart, on_done: OnDone, progress: bool,
            address: Optional[str] = None, num_cpus: Optional[int] = None) -> None:
    """Submit every job as a Ray task and record each as it completes (order of completion)."""
    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = {"runtime_env": _runtime_env(), "include_dashboard": False,
                                  "logging_level": "WARNING", "log_to_driver": progress}
        if address:
            kwargs["address"] = address
        elif num_cpus:
            kwargs["num_cpus"] = num_cpus
        ray.init(**kwargs)
    try:
        remote = ray.remote(train_point_data)
        pending: dict[Any, Job] = {}
        for job in jobs:
            resources = {"num_gpus": 1, "num_cpus": 1} if _wants_gpu(job) else {"num_cpus": 1}
            ref = remote.options(**resources).remote(to_dict(job.plan.cfg), str(job.run_dir.resolve()))
            pending[ref] = job
            on_start(job)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                job = pending.pop(ref)
                on_done(job, ray.get(ref))  # a worker's exception is raised here, as sequential would
    finally:
        if started_here:
            ray.shutdown()

