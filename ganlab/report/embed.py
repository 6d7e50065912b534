"""Images as data URIs, so that a report is one file that opens without network or neighbours."""

from __future__ import annotations

import base64
from pathlib import Path

MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}


def data_uri(path: str | Path) -> str:
    """``data:image/...;base64,...`` of an image file."""
    path = Path(path)
    mime = MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def image(path: str | Path, caption: str = "") -> dict[str, str]:
    """What a template needs to show one image: its data URI, its file name and a caption."""
    path = Path(path)
    return {"src": data_uri(path), "name": path.name, "caption": caption or path.stem}
