"""The command line: each verb parses its options and calls one library function."""

from ganlab.cli import explore, run, study  # noqa: F401  (registers their verbs on ``main``)
from ganlab.cli.base import main, run_command

__all__ = ["main", "run_command"]
