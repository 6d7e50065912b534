"""The ``ganlab`` command group and what every verb shares."""

from __future__ import annotations

import shlex
import sys
from typing import Callable, Optional

import click

from ganlab.config import DATA_ENV, use_data_root
from ganlab.errors import GanlabError


class _Group(click.Group):
    """Turns a GanlabError into one clear line on stderr and exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GanlabError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(2)


def _use_data_root(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    """--data-root given: the data sets are read from there by this command and the processes it starts."""
    use_data_root(value)
    return value


def data_root_option(expose: bool = False) -> Callable:
    """The one --data-root of every verb that reads data; ``expose`` hands its value to the verb too."""
    return click.option("--data-root", callback=_use_data_root, expose_value=expose, is_eager=True,
                        help=f"Folder holding the data sets (default: ${DATA_ENV}, else ~/.cache/ganlab/data).")


device_option = click.option("--device", default="auto", show_default=True,
                              help="auto (CUDA when present, else the CPU), cpu, cuda or cuda:N.")


@click.group(cls=_Group)
@click.version_option(package_name="ganlab")
def main() -> None:
    """Train, measure and explore conditional GANs on image data sets."""


def run_command(args: list[str]) -> None:
    """Run one ganlab command line in this process (a study's steps); a verb that fails raises GanlabError naming
    the command. The verbs are those registered by importing ``ganlab.cli``."""
    try:
        main(args, standalone_mode=False)
    except SystemExit as e:
        if e.code not in (0, None):
            raise GanlabError(f"study step failed: ganlab {shlex.join(args)}") from None
