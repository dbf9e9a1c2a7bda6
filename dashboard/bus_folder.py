"""The folder kombu's filesystem transport works in (the embedded broker and the notification
bus): its sub-folders, created here, and the transport options that name them."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def folder_transport_options(folder: Path, *, polling_interval: float) -> dict[str, Any]:
    """Messages are written to and read from `folder`/in; nothing is kept once processed."""
    for sub in ("in", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "in"),
        "data_folder_out": str(folder / "in"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": polling_interval,
    }
