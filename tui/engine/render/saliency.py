"""Where the subject is, by classic image processing (no model weights).

Saliency is the spectral residual of Hou & Zhang (2007) on a small copy, computed per channel of
a Lab image (so a colourful subject on a grey field counts as well as a bright one), blurred,
weighted by a mild centre prior, and normalised to 0..1. The subject's point is the weighted
centroid of the most salient connected region, and its box that region's bounds (find_subject:
faces first, when there are any).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tui.engine.render.faces import faces_box

_SIDE = 96  # the long side of the copy the spectral residual is computed on


def _small(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = side / max(h, w)
    size = (max(8, round(w * s)), max(8, round(h * s)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _spectral_residual(plane: np.ndarray) -> np.ndarray:
    # Mirrored to twice the size, the plane is periodic without seams: no false edges at borders.
    h, w = plane.shape
    plane = cv2.copyMakeBorder(plane, 0, h, 0, w, cv2.BORDER_REFLECT)
    f = np.fft.fft2(plane)
    log_amp = np.log(np.abs(f) + 1e-6).astype(np.float32)
    residual = log_amp - cv2.blur(log_amp, (3, 3), borderType=cv2.BORDER_WRAP)
    sal = np.abs(np.fft.ifft2(np.exp(residual) * np.exp(1j * np.angle(f)))) ** 2
    return sal[:h, :w].astype(np.float32)


def saliency_map(rgb: np.ndarray, side: int = _SIDE) -> np.ndarray:
    """Saliency in 0..1 of a uint8 RGB image, at a small size (long side `side`)."""
    small = _small(rgb, side)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    sal = np.zeros(lab.shape[:2], np.float32)
    for c in range(3):
        plane = lab[..., c]
        s = _spectral_residual(plane - plane.mean())
        sal += s / (s.max() + 1e-9)
    h, w = sal.shape
    sal = cv2.GaussianBlur(sal, (0, 0), sigmaX=max(h, w) / 32)
    # Centre-surround colour contrast (big, smooth subjects the residual sees only at edges).
    centre = cv2.GaussianBlur(lab, (0, 0), sigmaX=max(h, w) / 40)
    surround = cv2.GaussianBlur(lab, (0, 0), sigmaX=max(h, w) / 6, borderType=cv2.BORDER_REFLECT)
    contrast = np.linalg.norm(centre - surround, axis=2)
    contrast /= contrast.max() + 1e-9
    sal = 0.5 * sal / (sal.max() + 1e-9) + contrast * contrast
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    prior = np.exp(-(((xx / w - 0.5) / 0.6) ** 2 + ((yy / h - 0.5) / 0.6) ** 2))
    sal *= 0.8 + 0.2 * prior
    sal -= sal.min()
    return sal / (sal.max() + 1e-9)


def _main_region(sal: np.ndarray, quantile: float = 0.9) -> np.ndarray:
    """Mask of the connected region above the quantile with the most saliency mass."""
    thresh = max(float(np.quantile(sal, quantile)), 0.5 * float(sal.max()))
    mask = (sal >= thresh).astype(np.uint8)
    n, labels = cv2.connectedComponents(mask, connectivity=8)
    if n <= 2:
        return mask.astype(bool)
    mass = np.bincount(labels.ravel(), weights=sal.ravel(), minlength=n)
    mass[0] = 0.0
    return labels == int(np.argmax(mass))


Box = tuple[float, float, float, float]  # (x0, y0, x1, y1), 0..1 of the image


@dataclass(frozen=True)
class Subject:
    """What to keep in the picture: its point (to aim at) and its box (to keep in frame)."""

    point: tuple[float, float]
    box: Box
    face: bool = False


_LOOK_SIDE = 288  # the small copy faces and saliency are both found on is about this long


def _look_copy(rgb: np.ndarray) -> np.ndarray:
    """A copy 1/k the size, k whole (the long side _LOOK_SIDE to twice that): INTER_AREA by a
    whole factor takes its fast path (k x k means), a quarter of the time of any other size."""
    h, w = rgb.shape[:2]
    k = max(1, max(h, w) // _LOOK_SIDE)
    if k == 1:
        return rgb
    return cv2.resize(rgb[: h - h % k, : w - w % k], (w // k, h // k), interpolation=cv2.INTER_AREA)


def find_subject(rgb: np.ndarray) -> Subject:
    """The subject of a uint8 RGB image: the faces' union (padded) when there are faces, else the
    most salient region's bounds (padded a little: the map is blurred) and its centroid."""
    small = _look_copy(rgb)
    box = faces_box(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    if box is not None:
        return Subject(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), box, face=True)
    sal = saliency_map(small)
    region = _main_region(sal)
    point = _centroid(sal, region)
    ys, xs = np.nonzero(region)
    if not len(xs):
        return Subject(point, (0.5, 0.5, 0.5, 0.5))
    h, w = sal.shape
    x0, x1, y0, y1 = xs.min() / w, (xs.max() + 1) / w, ys.min() / h, (ys.max() + 1) / h
    px, py = 0.1 * (x1 - x0) + 0.01, 0.1 * (y1 - y0) + 0.01
    box = (max(0.0, x0 - px), max(0.0, y0 - py), min(1.0, x1 + px), min(1.0, y1 + py))
    return Subject(point, box)


def find_focus(rgb: np.ndarray) -> tuple[float, float]:
    """The subject's point, (x, y) in 0..1 of the image, to aim camera motion at."""
    sal = saliency_map(rgb)
    return _centroid(sal, _main_region(sal))


def _centroid(sal: np.ndarray, region: np.ndarray) -> tuple[float, float]:
    """The saliency-weighted centre of `region`, (x, y) in 0..1 (the middle when empty)."""
    w = np.where(region, sal, 0.0)
    total = float(w.sum())
    if total <= 0:
        return 0.5, 0.5
    h, wd = sal.shape
    yy, xx = np.mgrid[0:h, 0:wd]
    fx = (float((w * (xx + 0.5)).sum()) / total) / wd
    fy = (float((w * (yy + 0.5)).sum()) / total) / h
    return fx, fy


def person_box(face: Box) -> Box:
    """Where the person whose face (0..1 of the image) is `face` most likely is: head and hair
    above it, shoulders either side, the body down to the picture's bottom."""
    w, h = face[2] - face[0], face[3] - face[1]
    return (
        max(0.0, face[0] - 0.9 * w),
        max(0.0, face[1] - 0.25 * h),
        min(1.0, face[2] + 0.9 * w),
        1.0,
    )


def _seed_person(gc: np.ndarray, face: Box) -> None:
    """GrabCut's seeds for the person whose face is `face` (0..1): the face's middle sure, the
    head and a torso below it likely, the rest of person_box likely background."""
    h, w = gc.shape

    def put(box: Box, label: int) -> None:
        x0, y0 = max(0, round(box[0] * w)), max(0, round(box[1] * h))
        gc[y0 : max(y0, round(box[3] * h)), x0 : max(x0, round(box[2] * w))] = label

    fw, fh = face[2] - face[0], face[3] - face[1]
    mid = (face[0] + face[2]) / 2
    put(person_box(face), cv2.GC_PR_BGD)
    put((face[0] - 0.3 * fw, face[1] - 0.4 * fh, face[2] + 0.3 * fw, face[3]), cv2.GC_PR_FGD)
    put((mid - 1.2 * fw, face[3] + 0.1 * fh, mid + 1.2 * fw, 1.0), cv2.GC_PR_FGD)
    put((mid - 0.4 * fw, face[3] - 0.1 * fh, mid + 0.4 * fw, face[3] + 0.3 * fh), cv2.GC_PR_FGD)
    put(
        (face[0] + 0.2 * fw, face[1] + 0.25 * fh, face[2] - 0.2 * fw, face[3] - 0.1 * fh),
        cv2.GC_FGD,
    )


def foreground_mask(rgb: np.ndarray, side: int = 256, face: Box | None = None) -> np.ndarray | None:
    """A foreground mask (uint8 0/255) at a small size (long side `side`), or None.

    Seeds from the salient region (or, given a `face`, 0..1 of the image, from that person:
    the face sure, the rest of person_box likely), refined by GrabCut and cleaned with
    morphology. None when no plausible foreground stands out (too small, or most of the
    picture).
    """
    small = _small(rgb, side)
    h, w = small.shape[:2]
    gc = np.full((h, w), cv2.GC_BGD, np.uint8)
    k = max(3, side // 16) | 1
    if face is not None:
        _seed_person(gc, face)
    else:
        sal = cv2.resize(saliency_map(rgb), (w, h), interpolation=cv2.INTER_LINEAR)
        region = cv2.resize(
            _main_region(sal, 0.85).astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST
        )
        if region.sum() < 0.01 * h * w:
            return None
        near = cv2.dilate(region, np.ones((k, k), np.uint8), iterations=2)
        gc[near > 0] = cv2.GC_PR_BGD
        gc[region > 0] = cv2.GC_PR_FGD
        core = cv2.erode(region, np.ones((k, k), np.uint8))
        gc[(core > 0) & (sal > 0.8)] = cv2.GC_FGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(1)  # GrabCut's k-means start: deterministic
    try:
        cv2.grabCut(
            cv2.cvtColor(small, cv2.COLOR_RGB2BGR), gc, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK
        )
    except cv2.error:
        return None
    mask = np.where((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    kern = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kern)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kern, iterations=2)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return None
    keep = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    mask = np.where(labels == keep, 255, 0).astype(np.uint8)
    frac = mask.mean() / 255.0
    if not (0.01 <= frac <= (0.8 if face is not None else 0.6)):  # (a person may fill more)
        return None
    return mask
