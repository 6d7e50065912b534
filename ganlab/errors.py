"""The one exception type ganlab raises for problems a user can fix."""

import sys


class GanlabError(Exception):
    """A user-facing problem: the message is one line that names the problem and the fix."""


class TrainingDiverged(GanlabError):
    """A loss or weight became NaN or inf; the run's last good checkpoint is kept."""


def warn(message: str) -> None:
    """A warning for the user: one line on stderr, prefixed 'ganlab:' (no Python source line)."""
    print(f"ganlab: {message}", file=sys.stderr, flush=True)
