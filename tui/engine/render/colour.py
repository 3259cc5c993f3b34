"""RGB to Y'CbCr with the BT.709 matrix, limited (tv) range.

The conversion is done here, once per source, so that every frame is rendered directly in YUV
planes and the encoder gets exactly what the stream is tagged as.
"""

from __future__ import annotations

import cv2
import numpy as np

# BT.709 luma coefficients.
KR, KB = 0.2126, 0.0722
KG = 1.0 - KR - KB

_M = np.array(
    [
        [KR, KG, KB],
        [-KR / (2 * (1 - KB)), -KG / (2 * (1 - KB)), 0.5],
        [0.5, -KG / (2 * (1 - KR)), -KB / (2 * (1 - KR))],
    ],
    dtype=np.float32,
)


def rgb_to_yuv709(rgb: np.ndarray) -> np.ndarray:
    """uint8 HxWx3 RGB to float32 HxWx3 (Y in 16..235, Cb/Cr in 16..240)."""
    x = rgb.astype(np.float32) * (1.0 / 255.0)
    yuv = x @ _M.T
    yuv[..., 0] = 16.0 + 219.0 * yuv[..., 0]
    yuv[..., 1:] = 128.0 + 224.0 * yuv[..., 1:]
    return yuv


def yuv709_to_rgb(yuv: np.ndarray) -> np.ndarray:
    """Inverse of rgb_to_yuv709, for tests and stills: float HxWx3 to uint8 RGB."""
    y = (yuv[..., 0].astype(np.float32) - 16.0) / 219.0
    cb = (yuv[..., 1].astype(np.float32) - 128.0) / 224.0
    cr = (yuv[..., 2].astype(np.float32) - 128.0) / 224.0
    r = y + 2 * (1 - KR) * cr
    b = y + 2 * (1 - KB) * cb
    g = (y - KR * r - KB * b) / KG
    out = np.stack([r, g, b], axis=-1) * 255.0
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


# The same conversion as 3x4 affine matrices for cv2.transform (uint8 in, rounded uint8 out).
_OFFSET = np.array([16.0, 128.0, 128.0], dtype=np.float32)
_SCALE = np.array([219.0, 224.0, 224.0], dtype=np.float32)[:, None] / 255.0
_AFFINE = np.hstack([_M * _SCALE, _OFFSET[:, None]]).astype(np.float32)


def rgb_to_yuv420(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 RGB (even size) to BT.709 tv-range Y, U, V planes, chroma at half size.

    All in uint8 through OpenCV, with no float copy of the image: the matrix is linear, so
    averaging 2x2 blocks of RGB and then converting gives the same chroma as converting and then
    averaging (to within the rounding of the average).
    """
    h, w = rgb.shape[:2]
    y = cv2.transform(rgb, _AFFINE[:1])
    half = cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    uv = cv2.transform(half, _AFFINE[1:])
    return y.reshape(h, w), np.ascontiguousarray(uv[..., 0]), np.ascontiguousarray(uv[..., 1])
