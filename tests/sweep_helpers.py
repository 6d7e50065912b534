"""Tiny sweep settings shared by the sweep tests (digits, 8-channel networks, a few iterations)."""

TINY = ["data.name=digits", "model.g_width=8", "model.d_width=8", "model.z_dim=4", "train.batch_size=32",
        "train.steps=6", "train.log_every=3", "device=cpu"]
