"""ganlab: train, measure and explore conditional GANs on image data sets.

The Python API (``ganlab.train``, ``ganlab.load``, ``ganlab.classifier``, ``ganlab.evaluate``, ``ganlab.sweep``,
``ganlab.study``) lives in
``ganlab.api``; importing the package is cheap: torch and friends load when one of those is first used.
"""

from typing import Any

__version__ = "0.1.0"
# ganlab.api's public names, reached as ganlab.NAME
API = ("Run", "train", "load", "classifier", "evaluate", "sweep", "study")


def __getattr__(name: str) -> Any:
    if name in API:
        from ganlab import api  # start-up time: the API (torch, the CLI's verbs) loads on first use

        return getattr(api, name)
    raise AttributeError(f"module 'ganlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *API])
