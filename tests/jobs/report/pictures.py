"""Reading written PNGs back: size, blankness, and how many pixels carry a given colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colors
from matplotlib import image as mpimg


def decode(path: Path) -> np.ndarray:
    """RGB floats [H, W, 3] of a PNG file."""
    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    return np.asarray(mpimg.imread(path))[..., :3]


def assert_readable(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Not blank: real contrast and many colours (anti-aliased text, lines, fills)."""
    pixels = decode(path)
    if size is not None:
        assert pixels.shape[:2] == size, f"{path.name}: {pixels.shape[:2]} != {size}"
    assert pixels.std() > 0.05, f"{path.name} is nearly blank"
    distinct = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(distinct) > 30, f"{path.name} has only {len(distinct)} colours"
    assert (pixels.min(axis=2) < 0.3).mean() > 0.002, f"{path.name} has almost no dark ink"
    return pixels


def pixels_of(pixels: np.ndarray, colour: str, alpha: float = 1.0, tol: float = 0.04) -> int:
    """Pixels within `tol` of `colour` drawn with `alpha` over white."""
    rgb = np.array(colors.to_rgb(colour)) * alpha + (1 - alpha)
    return int((np.abs(pixels - rgb).max(axis=2) < tol).sum())
