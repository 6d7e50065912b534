"""The ``ganlab`` command group and what every verb shares."""

from __future__ import annotations

import sys

import click

from ganlab.errors import GanlabError


class _Group(click.Group):
    """Turns a GanlabError into one clear line on stderr and exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GanlabError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(2)


device_option = click.option("--device", default="auto", show_default=True,
                              help="auto (CUDA when present, else the CPU), cpu, cuda or cuda:N.")


@click.group(cls=_Group)
@click.version_option(package_name="ganlab")
def main() -> None:
    """Train, measure and explore conditional GANs on image data sets."""
