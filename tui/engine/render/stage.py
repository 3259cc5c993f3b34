"""The stage: a source image fitted to the canvas aspect, held as BT.709 YUV planes.

It is built once per segment, at the canvas size times the path's largest zoom, so that every
frame is a single affine warp per plane with no per-frame colour conversion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from tui.engine.render.colour import CHROMA_X0, chroma_half, rgb_to_yuv420


@dataclass
class Stage:
    y: np.ndarray  # uint8 (Hs, Ws)
    u: np.ndarray  # uint8 (Hs/2, Ws/2)
    v: np.ndarray
    # Where a chroma sample sits across its pixel (see _view_matrix): CHROMA_X0 (left-sited, as
    # H.264 wants) when made here; 0.5 (centred) for planes that swscale made.
    chroma_x0: float = CHROMA_X0
    # U and V interleaved as (U, V, U, V), (Hs/2, Ws/2, 4), for stages drawn many times (stills):
    # OpenCV warps a 4-channel image for about the price of one plane, so both chroma planes
    # cost one warp instead of two (a frame's chroma about 40 % cheaper). None: plane by plane.
    uv: np.ndarray | None = field(default=None, repr=False)
    _scratch: np.ndarray | None = field(default=None, repr=False)

    @property
    def size(self) -> tuple[int, int]:
        return self.y.shape[1], self.y.shape[0]

    def packed(self) -> Stage:
        """This stage with its chroma interleaved for one-warp drawing (see `uv`)."""
        if self.uv is None:
            self.uv = cv2.merge((self.u, self.v, self.u, self.v))
        return self


def stage_size(w: int, h: int, zoom: float) -> tuple[int, int]:
    """Even size of at least (w, h) x zoom with exactly the canvas's aspect when that costs
    little (so a stage point maps to the very same canvas point whatever the zoom)."""
    g = math.gcd(w, h)
    uw, uh = w // g, h // g
    m = math.ceil(g * zoom - 1e-9)
    if (uw * m) % 2 or (uh * m) % 2:
        m += 1
    if m / g <= zoom * 1.08:
        return uw * m, uh * m
    sw, sh = math.ceil(w * zoom), math.ceil(h * zoom)
    return sw + (sw & 1), sh + (sh & 1)


def _resize(rgb: np.ndarray, w: int, h: int, fast: bool = False) -> np.ndarray:
    """Resize; `fast` (draft previews) samples bilinearly when reducing by less than 2x, where
    INTER_AREA's general path costs about ten times as much for little a preview shows, and
    reduces by more in two steps: INTER_AREA by a whole factor (its fast path: plain k x k
    means), then bilinearly by the rest (less than 2x)."""
    sh, sw = rgb.shape[:2]
    if w < sw and h < sh:
        k = min(sw // w, sh // h)
        if fast and k >= 2:
            cw, ch = sw - sw % k, sh - sh % k  # (at most k - 1 pixels off, half each side)
            x0, y0 = (sw - cw) // 2, (sh - ch) // 2
            rgb = cv2.resize(
                rgb[y0 : y0 + ch, x0 : x0 + cw], (cw // k, ch // k), interpolation=cv2.INTER_AREA
            )
            sh, sw = rgb.shape[:2]
            if (sw, sh) == (w, h):
                return rgb
        small = fast and sw < 2 * w and sh < 2 * h
        interp = cv2.INTER_LINEAR if small else cv2.INTER_AREA
    else:
        interp = cv2.INTER_LANCZOS4
    return cv2.resize(rgb, (w, h), interpolation=interp)


def cover_window(
    src: tuple[int, int], w: int, h: int, centre: tuple[float, float] = (0.5, 0.5)
) -> tuple[int, int, int, int]:
    """(x0, y0, cw, ch): the part of a `src`-sized image that fills (w, h) when scaled, placed
    as near `centre` (0..1 of the image: the subject) as the image allows."""
    sw, sh = src
    scale = max(w / sw, h / sh)
    cw, ch = min(sw, round(w / scale)), min(sh, round(h / scale))
    x0 = min(max(0, round(centre[0] * sw - cw / 2)), sw - cw)
    y0 = min(max(0, round(centre[1] * sh - ch / 2)), sh - ch)
    return x0, y0, cw, ch


def fit_cover(
    rgb: np.ndarray,
    w: int,
    h: int,
    fast: bool = False,
    centre: tuple[float, float] = (0.5, 0.5),
) -> np.ndarray:
    """Scale to fill (w, h) and crop the overflow, the crop placed at `centre` (see above)."""
    x0, y0, cw, ch = cover_window((rgb.shape[1], rgb.shape[0]), w, h, centre)
    return _resize(rgb[y0 : y0 + ch, x0 : x0 + cw], w, h, fast)


def backdrop(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    """A blurred, darkened copy of the image filling (w, h): what a fitted image sits on.
    Made at an eighth of the size (the blur hides it), so it costs little at any size."""
    small = fit_cover(rgb, max(16, w // 8), max(16, h // 8), fast=True)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=max(w, h) / 160)
    small = cv2.convertScaleAbs(small, alpha=0.55)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def contain_rect(src: tuple[int, int], w: int, h: int) -> tuple[int, int, int, int]:
    """(x0, y0, fw, fh): where the whole of a `src`-sized image sits, fitted and centred."""
    sw, sh = src
    scale = min(w / sw, h / sh)
    fw, fh = max(1, round(sw * scale)), max(1, round(sh * scale))
    return (w - fw) // 2, (h - fh) // 2, fw, fh


def fit_contain(rgb: np.ndarray, w: int, h: int, fast: bool = False) -> np.ndarray:
    """The whole image over a blurred, dimmed copy of itself filling the frame."""
    bg = backdrop(rgb, w, h)
    x0, y0, fw, fh = contain_rect((rgb.shape[1], rgb.shape[0]), w, h)
    bg[y0 : y0 + fh, x0 : x0 + fw] = _resize(rgb, fw, fh, fast)
    return bg


def fit_image(
    rgb: np.ndarray,
    w: int,
    h: int,
    how: str = "cover",
    fast: bool = False,
    centre: tuple[float, float] = (0.5, 0.5),
) -> np.ndarray:
    """The image fitted to exactly (w, h), by `cover` (cropped about `centre`) or `contain`
    (`fast`: for drafts)."""
    if how == "contain":
        return fit_contain(rgb, w, h, fast)
    return fit_cover(rgb, w, h, fast, centre)


def fitted_box(
    box: tuple[float, float, float, float],
    src: tuple[int, int],
    w: int,
    h: int,
    how: str = "cover",
    centre: tuple[float, float] = (0.5, 0.5),
) -> tuple[float, float, float, float]:
    """Where a box (0..1 of the source image) lands on the fitted image (0..1 of it), clipped
    to it: the part that was cropped off is out of reach."""
    sw, sh = src
    if how == "contain":
        scale = min(w / sw, h / sh)
        fw, fh = max(1, round(sw * scale)), max(1, round(sh * scale))
        ox, oy = (w - fw) // 2 / w, (h - fh) // 2 / h
        sx, sy = fw / w, fh / h
        return ox + box[0] * sx, oy + box[1] * sy, ox + box[2] * sx, oy + box[3] * sy
    x0, y0, cw, ch = cover_window(src, w, h, centre)

    def across(v: float, o: int, c: int, n: int) -> float:
        return min(1.0, max(0.0, (v * n - o) / c))

    return (
        across(box[0], x0, cw, sw),
        across(box[1], y0, ch, sh),
        across(box[2], x0, cw, sw),
        across(box[3], y0, ch, sh),
    )


def build_stage(
    rgb: np.ndarray,
    w: int,
    h: int,
    fit: str = "cover",
    centre: tuple[float, float] = (0.5, 0.5),
) -> Stage:
    """Stage of even size (w, h) from an RGB image (a cover's crop placed at `centre`)."""
    w, h = w + (w & 1), h + (h & 1)
    return stage_of(fit_image(rgb, w, h, fit, centre=centre))


def stage_of(fitted: np.ndarray) -> Stage:
    """Stage from an RGB image already at the stage's (even) size (chroma packed: see `uv`)."""
    return Stage(*rgb_to_yuv420(fitted)).packed()


def planes_of(out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of a (H*3/2, W) yuv420p buffer."""
    h = out.shape[0] * 2 // 3
    w = out.shape[1]
    # Cut the chroma planes from the flat buffer: when H/2 is odd (e.g. 1080x1350) they do
    # not start on a row boundary of the (H*3/2, W) view.
    flat = out.reshape(-1)
    cs = (h // 2) * (w // 2)
    return (
        out[:h],
        flat[h * w : h * w + cs].reshape(h // 2, w // 2),
        flat[h * w + cs : h * w + 2 * cs].reshape(h // 2, w // 2),
    )


def _view_matrix(
    size: tuple[int, int],
    out_size: tuple[int, int],
    zoom: float,
    cx: float,
    cy: float,
    x0: float = 0.5,
    out_x0: float | None = None,
) -> np.ndarray:
    """Inverse map (output pixel -> plane pixel) of one view: the plane's (cx, cy) at the
    output's centre, 1/zoom of the plane across the output.

    Pixel k of a plane n pixels wide sits at (k + x0) / n of it across (`out_x0` for the
    output, `x0` if None): 0.5 (pixel centres) for luma and vertically; CHROMA_X0 for chroma
    across, whose samples are left-sited (see colour.chroma_half), so that chroma stays on its
    luma at any zoom.
    """
    pw, ph = size
    ow, oh = out_size
    ox = x0 if out_x0 is None else out_x0
    sx, sy = pw / (zoom * ow), ph / (zoom * oh)  # plane pixels per output pixel
    tx = cx * pw - x0 + sx * (ox - ow / 2)
    ty = cy * ph - 0.5 + sy * (0.5 - oh / 2)
    return np.array([[sx, 0.0, tx], [0.0, sy, ty]], dtype=np.float64)


def _plane_matrices(
    stage: Stage, out: np.ndarray, zoom: float, cx: float, cy: float
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(source plane, destination view, inverse map) for Y, U and V."""
    out_planes = planes_of(out)
    res = []
    for i, (plane, dst) in enumerate(zip((stage.y, stage.u, stage.v), out_planes, strict=True)):
        size = (plane.shape[1], plane.shape[0])
        osize = (dst.shape[1], dst.shape[0])
        if i == 0:
            m = _view_matrix(size, osize, zoom, cx, cy)
        else:
            m = _view_matrix(size, osize, zoom, cx, cy, stage.chroma_x0, CHROMA_X0)
        res.append((plane, dst, m))
    return res


_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _warp(plane: np.ndarray, m: np.ndarray, dst: np.ndarray) -> None:
    cv2.warpAffine(
        plane,
        m,
        (dst.shape[1], dst.shape[0]),
        dst=dst,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


def warp_into(stage: Stage, out: np.ndarray, zoom: float, cx: float, cy: float) -> None:
    """Render one view of the stage into `out`, a (H*3/2, W) yuv420p buffer."""
    views = _plane_matrices(stage, out, zoom, cx, cy)
    still = [p.shape == d.shape and np.array_equal(m, _IDENTITY) for p, d, m in views]
    if stage.uv is not None and not still[1]:  # U and V share one matrix: one 4-channel warp
        (_, du, m), (_, dv, _) = views[1], views[2]
        shape = (*du.shape, 4)
        if stage._scratch is None or stage._scratch.shape != shape:
            stage._scratch = np.empty(shape, np.uint8)
        _warp(stage.uv, m, stage._scratch)
        cv2.mixChannels([stage._scratch], [du, dv], [0, 0, 1, 1])
        views = views[:1]
    for (plane, dst, m), copy in zip(views, still, strict=False):
        if copy:  # a still view: a copy
            np.copyto(dst, plane)
        else:
            _warp(plane, m, dst)


@dataclass
class Layer:
    """A foreground layer over a stage: YUV planes plus alpha (0..1) at luma and chroma size.

    A draft's layer (`layer_of(..., fast=True)`) is instead premultiplied and packed, 8-bit:
    `ya` (Y*a, 255*(1-a), Y*a, 255*(1-a)) and `uva` (U*a, V*a, 255*(1-a), 255*(1-a)), so that a
    frame's layer is two 4-channel warps and a few 8-bit operations (not five warps, float
    alphas and float blends): about 40 % less time, within 3 levels of the float blend.
    """

    stage: Stage | None
    a: np.ndarray | None  # float32 (Hs, Ws)
    ac: np.ndarray | None  # float32 (Hs/2, Ws/2)
    ya: np.ndarray | None = None  # uint8 (Hs, Ws, 4)
    uva: np.ndarray | None = None  # uint8 (Hs/2, Ws/2, 4)


def layer_of(fitted: np.ndarray, alpha: np.ndarray, fast: bool = False) -> Layer:
    """A layer from an RGB image at the stage size and its alpha (float32 0..1, same size);
    `fast` (drafts): premultiplied and packed in 8 bits (see Layer)."""
    alpha = alpha.astype(np.float32)
    if not fast:
        return Layer(stage_of(fitted), alpha, chroma_half(alpha))
    y, u, v = rgb_to_yuv420(fitted)
    a8 = cv2.convertScaleAbs(alpha, alpha=255.0)
    ac8 = cv2.convertScaleAbs(chroma_half(alpha), alpha=255.0)
    ia, iac = cv2.bitwise_not(a8), cv2.bitwise_not(ac8)  # 255 - a
    ya = cv2.multiply(y, a8, scale=1 / 255)
    up, vp = cv2.multiply(u, ac8, scale=1 / 255), cv2.multiply(v, ac8, scale=1 / 255)
    return Layer(None, None, None, cv2.merge((ya, ia, ya, ia)), cv2.merge((up, vp, iac, iac)))


def _composite_packed(
    layer: Layer, out: np.ndarray, zoom: float, cx: float, cy: float, scratch: list
) -> None:
    """composite_into for a draft's premultiplied, packed layer: out = fg*a + out*(1-a)."""
    assert layer.ya is not None and layer.uva is not None
    yd, ud, vd = planes_of(out)
    if not scratch:
        scratch += [np.empty((*yd.shape, 4), np.uint8), np.empty((*ud.shape, 4), np.uint8)]
        scratch += [np.empty_like(yd), np.empty_like(yd)]
        scratch += [np.empty_like(ud), np.empty_like(ud), np.empty_like(ud)]
    ly, lc, fy, iy, fu, fv, ic = scratch
    h, w = layer.ya.shape[:2]
    my = _view_matrix((w, h), (yd.shape[1], yd.shape[0]), zoom, cx, cy)
    mc = _view_matrix((w // 2, h // 2), (ud.shape[1], ud.shape[0]), zoom, cx, cy, CHROMA_X0)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    for src, m, dst, fill in (
        (layer.ya, my, ly, (0, 255, 0, 255)),
        (layer.uva, mc, lc, (0, 0, 255, 255)),
    ):
        size = (dst.shape[1], dst.shape[0])
        cv2.warpAffine(
            src, m, size, dst=dst, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=fill
        )
    cv2.mixChannels([ly], [fy, iy], [0, 0, 1, 1])
    cv2.mixChannels([lc], [fu, fv, ic], [0, 0, 1, 1, 2, 2])
    for plane, fg, inv in ((yd, fy, iy), (ud, fu, ic), (vd, fv, ic)):
        cv2.multiply(plane, inv, dst=plane, scale=1 / 255)
        cv2.add(plane, fg, dst=plane)


def composite_into(
    layer: Layer, out: np.ndarray, zoom: float, cx: float, cy: float, scratch: list
) -> None:
    """Warp the layer's view and blend it over `out` (a yuv420p buffer) by its alpha."""
    if layer.ya is not None:
        _composite_packed(layer, out, zoom, cx, cy, scratch)
        return
    assert layer.stage is not None and layer.a is not None and layer.ac is not None
    alphas = (layer.a, layer.ac, layer.ac)
    if not scratch:
        for dst in planes_of(out):
            scratch.append(
                (
                    np.empty_like(dst),
                    np.empty(dst.shape, np.float32),
                    np.empty(dst.shape, np.float32),
                )
            )
    views = _plane_matrices(layer.stage, out, zoom, cx, cy)
    for i, ((plane, dst, m), alpha) in enumerate(zip(views, alphas, strict=True)):
        fg, a, inv = scratch[i]
        size = (dst.shape[1], dst.shape[0])
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        cv2.warpAffine(plane, m, size, dst=fg, flags=flags, borderMode=cv2.BORDER_REPLICATE)
        if i < 2:  # U and V share the chroma alpha
            cv2.warpAffine(alpha, m, size, dst=a, flags=flags, borderMode=cv2.BORDER_CONSTANT)
            np.subtract(1.0, a, out=inv)
        else:
            a, inv = scratch[1][1], scratch[1][2]
        cv2.blendLinear(fg, dst, a, inv, dst=dst)
