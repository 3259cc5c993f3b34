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


# Chroma siting. H.264's yuv420p (chroma_sample_location 0, the default, which is what decoders
# assume when the stream does not say) puts a chroma sample horizontally on the even luma
# columns (MPEG-2 style, "left") and vertically half-way between two luma rows. In luma
# pixel-centre coordinates chroma sample (i, j) sits at x = 2j, y = 2i + 0.5: a plain 2x2
# average would sit at x = 2j + 0.5, half a luma pixel (a quarter of a chroma pixel) right of
# where the decoder puts it.
CHROMA_X0 = 0.25  # a chroma pixel's centre, from its left edge, in chroma pixels (0.5 = centred)
_SITED = np.array([[0.25, 0.5, 0.25]], dtype=np.float32)  # [1 2 1] / 4 around x = 2j


def chroma_half(img: np.ndarray) -> np.ndarray:
    """`img` (even size, uint8 or float32, 1 to 4 channels) at half size, sampled where the
    yuv420p chroma samples sit: rows 2i and 2i+1 averaged, columns 2j-1, 2j, 2j+1 weighted
    1:2:1 (the edges replicated)."""
    h, w = img.shape[:2]
    rows = cv2.resize(img, (w, h // 2), interpolation=cv2.INTER_AREA)
    cv2.filter2D(rows, -1, _SITED, dst=rows, borderType=cv2.BORDER_REPLICATE)
    return cv2.resize(rows, (w // 2, h // 2), interpolation=cv2.INTER_NEAREST)  # columns 2j


def rgb_to_yuv420(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 RGB (even size) to BT.709 tv-range Y, U, V planes, chroma at half size, sited as
    H.264 expects (see `chroma_half`).

    All in uint8 through OpenCV, with no float copy of the image: the matrix is linear, so
    filtering RGB and then converting gives the same chroma as converting and then filtering
    (to within the rounding of the filter).
    """
    h, w = rgb.shape[:2]
    y = cv2.transform(rgb, _AFFINE[:1])
    uv = cv2.transform(chroma_half(rgb), _AFFINE[1:])
    return y.reshape(h, w), np.ascontiguousarray(uv[..., 0]), np.ascontiguousarray(uv[..., 1])
