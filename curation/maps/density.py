"""A map of many points as a density raster, and which points fall inside a drawn box or lasso.

Above some tens of thousands of points a browser scatter is slow to send, draw and select, and one group paints
over another in draw order. A raster of counts per pixel and colour group costs the same at 1M points as at 100k,
and mixing each pixel's colours in proportion to its groups' counts is independent of any order. Selections then
come back as shapes (box or lasso corners), tested here against every point, not only the drawn sample.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

WIDTH, HEIGHT = 720, 480  # raster pixels; the chart stretches it over the map's extent
Bounds = tuple[float, float, float, float]  # x0, x1, y0, y1


def map_bounds(x: np.ndarray, y: np.ndarray, extra: Sequence[tuple[float, float]] = ()) -> Bounds:
    """The extent of the points (and of `extra` ones, such as a query), padded by 3% on each side."""
    xs = np.concatenate([x, [p[0] for p in extra]]) if extra else x
    ys = np.concatenate([y, [p[1] for p in extra]]) if extra else y
    x0, x1, y0, y1 = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
    pad_x, pad_y = max(x1 - x0, 1e-9) * 0.03, max(y1 - y0, 1e-9) * 0.03
    return x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y


def density_png(
    x: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    colours: Sequence[str],
    bounds: Bounds,
    *,
    lit: np.ndarray | None = None,
    dimmed: float = 0.12,
) -> str:
    """A PNG data URI: each pixel coloured by the mix of its points' groups (`codes` index `colours`, hex), its
    opacity growing with the log of its count; with `lit`, pixels outside the selection fade to `dimmed`."""
    from PIL import Image

    x0, x1, y0, y1 = bounds
    col = np.clip(((x - x0) / (x1 - x0) * WIDTH).astype(np.int64), 0, WIDTH - 1)
    row = np.clip(((y1 - y) / (y1 - y0) * HEIGHT).astype(np.int64), 0, HEIGHT - 1)  # image rows run downwards
    pixel = row * WIDTH + col
    pixels = WIDTH * HEIGHT
    counts = np.bincount(codes * pixels + pixel, minlength=len(colours) * pixels).reshape(len(colours), HEIGHT, WIDTH)
    counts = _spread(counts.astype(np.float32))
    total = counts.sum(axis=0)
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colours], dtype=np.float32)
    mixed = np.einsum("ghw,gc->hwc", counts, rgb) / np.maximum(total, 1e-9)[..., None]
    alpha = np.where(total > 0, 0.3 + 0.7 * np.log1p(total) / np.log1p(max(float(total.max()), 1.0)), 0.0)
    if lit is not None:
        shown = _spread(np.bincount(pixel[lit], minlength=pixels).reshape(1, HEIGHT, WIDTH).astype(np.float32))[0]
        alpha *= dimmed + (1 - dimmed) * np.minimum(shown / np.maximum(total, 1e-9), 1.0)
    image = np.dstack([mixed, alpha * 255]).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image, "RGBA").save(buffer, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _spread(counts: np.ndarray) -> np.ndarray:
    """Each point's count spread over its pixel and the eight around it, so single points stay visible."""
    padded = np.pad(counts, ((0, 0), (1, 1), (1, 1)))
    height, width = counts.shape[1:]
    return sum(padded[:, dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3))


def rows_in_shapes(
    x: np.ndarray, y: np.ndarray, *, boxes: Iterable[Mapping[str, Any]] = (), lassos: Iterable[Mapping[str, Any]] = ()
) -> np.ndarray:
    """Rows of the points inside any of the selection shapes plotly sends back: `boxes` (x and y ranges) and
    `lassos` (the polygon's x and y corners; fewer than three make no area)."""
    inside = np.zeros(len(x), dtype=bool)
    for box in boxes:
        xs, ys = np.asarray(box.get("x", []), dtype=float), np.asarray(box.get("y", []), dtype=float)
        if xs.size and ys.size:
            inside |= (x >= xs.min()) & (x <= xs.max()) & (y >= ys.min()) & (y <= ys.max())
    for lasso in lassos:
        xs, ys = np.asarray(lasso.get("x", []), dtype=float), np.asarray(lasso.get("y", []), dtype=float)
        if len(xs) >= 3 and len(xs) == len(ys):
            inside |= _in_polygon(x, y, xs, ys)
    return np.flatnonzero(inside)


def _in_polygon(x: np.ndarray, y: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Even-odd rule: a point is inside when a ray to its right crosses the polygon's edges an odd number of times."""
    inside = np.zeros(len(x), dtype=bool)
    for ax, ay, bx, by in zip(xs, ys, np.roll(xs, 1), np.roll(ys, 1), strict=True):
        crosses = (ay > y) != (by > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = ax + (y - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (x < at)
    return inside
