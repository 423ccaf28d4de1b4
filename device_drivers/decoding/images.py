"""Turn whatever a caller has (an OpenCV frame, a PIL image) into the 8-bit grey image every
decoder reads, and shrink large frames for speed."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

GrayImage = npt.NDArray[np.uint8]
"""A 2-D, C-contiguous array of 8-bit grey values (rows x columns)."""


def as_gray(image: Any) -> GrayImage:
    """``image`` as a contiguous 8-bit grey array.

    Takes a numpy array (grey, BGR or BGRA as OpenCV delivers them) or a PIL image; raises
    :class:`ValueError` for anything else or for an empty image.
    """
    if not isinstance(image, np.ndarray):
        convert = getattr(image, "convert", None)
        if convert is None:
            raise ValueError(f"not an image: {type(image).__name__}")
        image = np.asarray(convert("L"))
    if image.size == 0:
        raise ValueError("empty image")
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    elif image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    elif image.ndim != 2:
        raise ValueError(f"cannot read an image of shape {image.shape}")
    gray: GrayImage = np.ascontiguousarray(image)
    return gray


def shrink(image: GrayImage, max_side: int | None) -> tuple[GrayImage, float]:
    """``image`` reduced (area averaging) so its longer side is at most ``max_side``.

    Returns the image and the factor that maps its coordinates back to the original
    (1.0 when it was small enough already or ``max_side`` is None).
    """
    height, width = image.shape[:2]
    longest = max(height, width)
    if max_side is None or longest <= max_side:
        return image, 1.0
    factor = longest / max_side
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    small = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return small, factor
