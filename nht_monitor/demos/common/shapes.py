"""Procedural images for the STAND-IN datasets (``--synthetic``): shapes, textures, shortcuts.

Nothing here is a real dataset: class evidence is a drawn shape or texture (position,
size, colours and noise vary, so recognising it takes real learning) and the shortcut
is a border colour, a background or an attribute patch whose correlation with the
label the caller chooses.
"""

from __future__ import annotations

import numpy as np

SHAPES = ("disc", "square", "triangle", "ring", "plus", "hstripes", "vstripes",
          "dstripes", "checker", "dots")
"""The ten core classes of the CIFAR-10 stand-in."""

PALETTE = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200],
                    [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230],
                    [210, 245, 60], [250, 190, 212]], dtype=np.uint8)
"""Ten distinct border colours: colour ``k`` is the shortcut for class ``k``."""


def shape_mask(kind: str, size: int, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
    """Boolean ``[size, size]`` mask of ``kind`` at a random position and scale.

    ``scale`` multiplies the shape's radius and texture period (the centre range shrinks
    a little above 1 so the larger shape stays inside); 1 is the demos' stand-in."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    lo = 0.35 if scale <= 1 else min(0.45, 0.35 + 0.1 * (scale - 1))
    cy, cx = rng.uniform(lo, 1 - lo, 2) * size
    r = rng.uniform(0.18, 0.3) * scale * size
    period = rng.uniform(0.15, 0.25) * scale * size
    phase = rng.uniform(0, period)
    inside = (np.abs(yy - cy) < r * 1.2) & (np.abs(xx - cx) < r * 1.2)
    if kind == "disc":
        return (yy - cy) ** 2 + (xx - cx) ** 2 < r ** 2
    if kind == "square":
        return (np.abs(yy - cy) < r * 0.85) & (np.abs(xx - cx) < r * 0.85)
    if kind == "triangle":
        return (yy - cy < r) & (yy - cy > -r) & (np.abs(xx - cx) < (yy - cy + r) * 0.6)
    if kind == "ring":
        d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        return (d < r) & (d > r * 0.55)
    if kind == "plus":
        w = r * 0.3
        return ((np.abs(yy - cy) < w) & (np.abs(xx - cx) < r)) | \
            ((np.abs(xx - cx) < w) & (np.abs(yy - cy) < r))
    if kind == "hstripes":
        return inside & (((yy + phase) % period) < period / 2)
    if kind == "vstripes":
        return inside & (((xx + phase) % period) < period / 2)
    if kind == "dstripes":
        return inside & (((xx + yy + phase) % period) < period / 2)
    if kind == "checker":
        return inside & (((yy // (period / 2)) + (xx // (period / 2))) % 2 == 0)
    if kind == "dots":
        return inside & ((((yy + phase) % period) - period / 2) ** 2
                         + (((xx + phase) % period) - period / 2) ** 2 < (period / 4) ** 2)
    raise ValueError(f"unknown shape {kind!r}")


def _contrasting(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    bg = rng.uniform(0, 255, 3)
    fg = rng.uniform(0, 255, 3)
    while np.abs(fg - bg).sum() < 200:
        fg = rng.uniform(0, 255, 3)
    return fg, bg


def core_image(kind: str, size: int, rng: np.random.Generator, noise: float = 20.0,
               scale: float = 1.0) -> np.ndarray:
    """uint8 ``[3, size, size]``: ``kind`` in a random colour on a random background + noise
    (``scale``: see :func:`shape_mask`)."""
    fg, bg = _contrasting(rng)
    mask = shape_mask(kind, size, rng, scale)
    img = np.empty((size, size, 3), dtype=np.float32)
    img[:] = bg
    img[mask] = fg
    img += rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8).transpose(2, 0, 1)


def add_border(img: np.ndarray, colour: np.ndarray, width: int) -> np.ndarray:
    """A copy of uint8 ``[3, H, W]`` ``img`` with a solid ``width``-pixel frame of ``colour``."""
    out = img.copy()
    c = colour.reshape(3, 1, 1)
    out[:, :width, :] = c
    out[:, -width:, :] = c
    out[:, :, :width] = c
    out[:, :, -width:] = c
    return out


def background(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """float ``[size, size, 3]`` scene: ``"land"`` (green/brown blotches) or ``"water"``
    (blue waves)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    if kind == "land":
        base = np.array([70, 120, 50], np.float32) + rng.uniform(-25, 25, 3)
        blot = np.sin(xx / rng.uniform(2, 4) + rng.uniform(0, 6)) * np.cos(yy / rng.uniform(2, 4))
        img = base + blot[..., None] * np.array([30, 20, 5], np.float32)
    elif kind == "water":
        base = np.array([40, 90, 180], np.float32) + rng.uniform(-25, 25, 3)
        wave = np.sin(yy / rng.uniform(1, 2) + np.sin(xx / 3) + rng.uniform(0, 6))
        img = base + wave[..., None] * np.array([15, 25, 40], np.float32)
    else:
        raise ValueError(f"unknown background {kind!r}")
    return img


def scene_image(kind: str, place: str, size: int, rng: np.random.Generator,
                noise: float = 15.0) -> np.ndarray:
    """uint8 ``[3, size, size]``: shape ``kind`` in a random colour over a ``place`` background."""
    img = background(place, size, rng)
    mask = shape_mask(kind, size, rng)
    img[mask] = rng.uniform(0, 255, 3)
    img += rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8).transpose(2, 0, 1)


def face_image(blond: bool, male: bool, size: int, rng: np.random.Generator,
               noise: float = 15.0) -> np.ndarray:
    """uint8 ``[3, size, size]``: a face whose hair TEXTURE is the target and a beard the attribute.

    Hair (top band) is drawn with ``dots`` texture when ``blond`` else ``hstripes``, in a
    random hair colour (so colour is no cue); ``male`` adds a dark beard block on the chin.
    """
    img = np.empty((size, size, 3), np.float32)
    img[:] = rng.uniform(0, 255, 3)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    cy, cx = size * rng.uniform(0.5, 0.6), size * rng.uniform(0.42, 0.58)
    face = ((yy - cy) / (0.34 * size)) ** 2 + ((xx - cx) / (0.26 * size)) ** 2 < 1
    img[face] = np.array([225, 180, 150], np.float32) + rng.uniform(-30, 30, 3)
    hair = shape_mask("dots" if blond else "hstripes", size, rng) & (yy < cy - 0.1 * size)
    img[hair] = rng.uniform(0, 255, 3)
    if male:
        beard = face & (yy > cy + 0.12 * size)
        img[beard] = np.array([40, 30, 25], np.float32) + rng.uniform(-15, 15, 3)
    img += rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8).transpose(2, 0, 1)
