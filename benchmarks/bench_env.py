"""What a benchmark result records about where it ran: device name and library versions."""

from __future__ import annotations

import os
import platform

import torch


def environment(device: torch.device) -> dict:
    """Device name, thread count and versions of the libraries a metric depends on."""
    import numpy
    import scipy

    from ganlab.devices import cpu_model
    from ganlab.metrics.inception import PROTOCOL_VERSION

    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = f"{cpu_model()} cpu, {torch.get_num_threads()} threads"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None  # a shared CPU's other work shows here
    return {"device": str(device), "load_average_1min": load, "cpu_count": os.cpu_count(), "device_name": name,
            "torch": torch.__version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
            "python": platform.python_version(), "protocol": PROTOCOL_VERSION, "tf32": False}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
