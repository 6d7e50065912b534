"""CPU threads follow the cores the process may use, and a user's OMP_NUM_THREADS wins."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs an affinity mask (Linux)")

PROBE = ("import os, sys; os.sched_setaffinity(0, {int(c) for c in sys.argv[1].split(',')}); "
         "from ganlab.devices import use_allowed_cores; print(use_allowed_cores())")


def threads_with(cores: list[int], env_threads: str | None = None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if env_threads is not None:
        env["OMP_NUM_THREADS"] = env_threads
    out = subprocess.run([sys.executable, "-c", PROBE, ",".join(map(str, cores))], env=env,
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_threads_follow_the_allowed_cores():
    cores = sorted(os.sched_getaffinity(0))
    assert threads_with(cores[:1]) == 1
    assert threads_with(cores) == len(cores)


def test_a_users_thread_count_is_kept():
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs two cores to tell the counts apart")
    assert threads_with(cores, env_threads="1") == 1
