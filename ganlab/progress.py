"""Progress of long work, in one place: a live bar for training (tqdm) and, for passes that can take hours
and often write to a log (Inception features on a CPU), a line on stderr every 30 s; both say how long is left."""

from __future__ import annotations

import sys
import time
from typing import Any, Optional, TextIO

from tqdm.auto import tqdm


def progress_bar(total: int, initial: int = 0, enabled: bool = True, unit: str = "it") -> Any:
    """A tqdm bar on stderr (disabled: a no-op bar with the same methods)."""
    return tqdm(total=total, initial=initial, disable=not enabled, unit=unit, dynamic_ncols=True, leave=False)


class Progress:
    """Counts images done out of ``total`` and prints ``what: done/total images, rate, time left`` at most
    every ``every_s`` seconds. Nothing is printed for work that finishes before the first interval."""

    def __init__(self, what: str, total: int, done: int = 0, every_s: float = 30.0,
                 stream: Optional[TextIO] = None):
        self.what, self.total, self.every_s = what, total, every_s
        self.stream = stream if stream is not None else sys.stderr
        self.start_done = self.done = done
        self.start = self.last = time.perf_counter()

    def advance(self, n: int) -> None:
        """Record ``n`` more images; print a line when ``every_s`` has passed since the last one."""
        self.done += n
        now = time.perf_counter()
        if now - self.last >= self.every_s:
            self.last = now
            print(self.line(now), file=self.stream, flush=True)

    def line(self, now: Optional[float] = None) -> str:
        """The progress line as it reads now."""
        elapsed = (now if now is not None else time.perf_counter()) - self.start
        rate = (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        return (f"ganlab: {self.what}: {self.done:,}/{self.total:,} images, {rate:.1f} images/s, "
                f"about {duration(left)} left")


def duration(seconds: float) -> str:
    """A duration as people read it: '42 s', '17 min', '2.5 h' ('? min' when unknown)."""
    if seconds == float("inf"):
        return "? min"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
