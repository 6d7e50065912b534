"""The parallel backend: points trained side by side in worker processes on this machine, one CPU thread each.

On a CPU, several single-threaded processes do more work than one process with every thread (a small GAN's
step is a chain of small kernels that one thread keeps busy), so a sweep fills the cores with workers.
Workers are started fresh (``spawn``: no state copied from this process) and, on Linux, die with the sweep's
process: a sweep killed with ``kill -9`` leaves no worker writing into a run folder, and running it again
continues every point by the one resume rule.
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import multiprocessing
import os
import signal
from typing import Optional

import torch

from ganlab.config import to_dict
from ganlab.devices import THREADS_ENV, allowed_cores
from ganlab.sweeps.jobs import Job, OnDone, OnStart
from ganlab.sweeps.sequential import train_point_data

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this worker when its parent dies (Linux; elsewhere nothing is asked)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _start_worker(parent: int) -> None:
    os.environ[THREADS_ENV] = "1"  # the trainer keeps a thread count the user (here: the backend) set
    torch.set_num_threads(1)
    _die_with_parent(parent)


def worker_count(jobs: int, workers: int = 0) -> int:
    """How many workers train ``jobs`` points: ``workers`` (0 = one per allowed core), at most one per point."""
    return max(1, min(jobs, workers or allowed_cores()))


def run_parallel(jobs: list[Job], on_start: OnStart, on_done: OnDone, progress: bool, workers: int = 0) -> None:
    """Train the jobs in ``worker_count`` processes, each point recorded as it finishes; a worker's error stops
    the sweep (the points still training are cancelled with it and continue on the next run). A freed worker
    starts the next point before the finished one is recorded, so it trains while this process evaluates."""
    n = worker_count(len(jobs), workers)
    pending = list(jobs)
    running: dict[cf.Future[Optional[str]], Job] = {}
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(n, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)) as pool:

        def fill() -> None:
            while pending and len(running) < n:
                job = pending.pop(0)
                on_start(job)
                running[pool.submit(train_point_data, to_dict(job.plan.cfg), str(job.run_dir))] = job

        try:
            fill()
            while running:
                done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                finished = [(running.pop(future), future) for future in done]
                fill()
                for job, future in finished:
                    on_done(job, future.result())
        except BaseException:
            workers_now = list((getattr(pool, "_processes", None) or {}).values())  # shutdown forgets them
            pool.shutdown(wait=False, cancel_futures=True)
            for process in workers_now:
                process.kill()
            raise
