"""People as boxes: where the pose model should look, and which person is which over time.

MediaPipe's own person detector is made for one person filling the frame: a street filmed
from afar (pedestrians 100 px tall) gives "nobody". OpenCV ships a pedestrian detector
(HOG + linear SVM, Dalal & Triggs) inside its wheel, so it needs no download; its boxes are
cropped, upscaled and shown to the pose model one at a time (`crop_region`).

When a YOLOX-style ONNX person detector is on the machine (DWPose's `yolox_l.onnx`),
`OnnxPeopleDetector` gives the boxes instead: it also finds people HOG misses (seated,
half in the picture, out of focus).

A chosen person is followed through a video by `PersonTrack`: continuity of position and
size (a person does not teleport or double in size between frames) and of look (a colour
histogram of their box), never re-picked per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


def _nms(boxes: np.ndarray, weights: np.ndarray, overlap: float) -> np.ndarray:
    """Indices kept, strongest first: a box mostly inside a stronger one is the same person
    (HOG fires at several scales), measured as intersection over the smaller box."""
    keep: list[int] = []
    for i in np.argsort(-weights):
        a = boxes[i]
        same = False
        for j in keep:
            b = boxes[j]
            w = min(a[2], b[2]) - max(a[0], b[0])
            h = min(a[3], b[3]) - max(a[1], b[1])
            smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
            if w > 0 and h > 0 and w * h > overlap * smaller:
                same = True
                break
        if not same:
            keep.append(int(i))
    return np.array(keep, dtype=int)


@dataclass
class PeopleDetectorConfig:
    """OpenCV's HOG pedestrian detector, as used here."""

    work_side: int = 1024  # images are scaled (up, at most `max_upscale`) to this long side
    max_upscale: float = 2.0  # small people need upscaling: HOG's window is 64x128 px
    min_weight: float = 0.3  # SVM margin under which a box is dropped
    overlap: float = 0.6  # boxes sharing this much of the smaller one are one person
    win_stride: int = 8  # HOG window stride in pixels (smaller: slower, a few more people)


class PeopleDetector:
    """Person boxes (x0, y0, x1, y1 in pixels of the input image), strongest first."""

    def __init__(self, config: PeopleDetectorConfig | None = None):
        self.config = config or PeopleDetectorConfig()
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = self.config
        height, width = image.shape[:2]
        scale = min(c.max_upscale, c.work_side / max(height, width))
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if abs(scale - 1) > 1e-3:
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        if grey.shape[0] < 128 or grey.shape[1] < 64:  # smaller than HOG's window (it crashes)
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        found, weights = self._hog.detectMultiScale(
            grey, winStride=(c.win_stride, c.win_stride), padding=(8, 8), scale=1.05)
        if len(found) == 0:
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        boxes = np.asarray(found, np.float32) / scale
        boxes[:, 2:] += boxes[:, :2]
        weights = np.ravel(weights).astype(np.float32)
        ok = weights >= c.min_weight
        boxes, weights = boxes[ok], weights[ok]
        keep = _nms(boxes, weights, c.overlap)
        return (boxes[keep] if len(keep) else boxes[:0]), (weights[keep] if len(keep) else
                                                          weights[:0])


class OnnxPeopleDetector:
    """Person boxes from a YOLOX-style ONNX detector (DWPose's `yolox_l.onnx`, or any
    model with YOLOX's input and output layout, with or without its NMS head) through
    rtmlib: far stronger than HOG on people who are not upright pedestrians (seated,
    half in the picture, blurred), used whenever such a file is on the machine.
    Returns the same (boxes, scores) as `PeopleDetector`; scores are 1 (rtmlib keeps
    only boxes above `score`)."""

    def __init__(self, path, score: float = 0.3, device: str = "cpu"):
        import contextlib
        import io

        from rtmlib import YOLOX

        with contextlib.redirect_stdout(io.StringIO()):  # rtmlib prints each load
            self._det = YOLOX(str(path), model_input_size=(640, 640), det_mode="multiclass",
                              score_thr=score, backend="onnxruntime", device=device)

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # YOLOX was trained on OpenCV-loaded (BGR) images
        pre, ratio = self._det.preprocess(np.ascontiguousarray(image[..., ::-1]))
        out = self._det.inference(pre)[0]
        with_nms = out.shape[-1] == 5  # an NMS head gives boxes + score, people only
        self._det.det_mode = "human" if with_nms else "multiclass"
        found = self._det.postprocess(out, ratio)
        boxes = np.asarray(found if with_nms else found[0], np.float32).reshape(-1, 4)
        if not with_nms:
            boxes = boxes[np.asarray(found[1]).reshape(-1) == 0]  # COCO class 0: person
        height, width = image.shape[:2]
        boxes = np.clip(boxes, 0, [width, height, width, height])
        boxes = boxes[(boxes[:, 2] - boxes[:, 0] > 1) & (boxes[:, 3] - boxes[:, 1] > 1)]
        order = np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
        return boxes[order], np.ones(len(boxes), np.float32)


def crop_region(box: np.ndarray, width: int, height: int, margin: float = 0.25,
                aspect: float = 1.0) -> tuple[int, int, int, int]:
    """A region around a box, grown by `margin` of its long side on each side (joints and
    limbs stick out of pedestrian boxes) and at least `aspect` x as wide as tall (1: a
    square; narrower keeps neighbours out), clipped to the image."""
    x0, y0, x1, y1 = (float(v) for v in box)
    grow = margin * max(x1 - x0, y1 - y0)
    tall = y1 - y0 + 2 * grow
    wide = max(x1 - x0 + 2 * grow, aspect * tall)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (int(max(0, math.floor(cx - wide / 2))), int(max(0, math.floor(cy - tall / 2))),
            int(min(width, math.ceil(cx + wide / 2))), int(min(height, math.ceil(cy + tall / 2))))


def appearance(image: np.ndarray, box: np.ndarray | None) -> np.ndarray | None:
    """A person's look: a normalised hue-saturation histogram of the middle of their box
    (clothes more than background), None for no box."""
    if box is None:
        return None
    height, width = image.shape[:2]
    x0, y0, x1, y1 = box
    dx, dy = 0.2 * (x1 - x0), 0.1 * (y1 - y0)
    x0, x1 = int(max(0, x0 + dx)), int(min(width, x1 - dx))
    y0, y1 = int(max(0, y0 + dy)), int(min(height, y1 - dy))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [16, 4], [0, 180, 0, 256])
    return cv2.normalize(hist, None).astype(np.float32)


def look_distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """0 (same colours) .. 1 (nothing in common); 0.5 when either is unknown."""
    if a is None or b is None:
        return 0.5
    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


@dataclass
class PersonTrack:
    """The chosen person: last box (xyxy), velocity (px/frame of the box centre), look,
    and frames since last seen.

    `cost` of a candidate box: distance of its centre from where the track predicts it
    (last centre + velocity) in box heights, log size change and look distance, summed;
    None when a human could not have got there (farther than `max_move` heights per frame
    of absence, or more than `max_size`x bigger or smaller) or looks like someone else
    (look distance over `max_look`, or over `max_relook` once the person was lost: where
    they are is then less certain, so how they look must say more, or a neighbour of
    similar colours takes their place).
    """

    box: np.ndarray
    look: np.ndarray | None
    missed: int = 0
    velocity: np.ndarray | None = None
    max_move: float = 0.35
    max_size: float = 1.6
    max_look: float = 0.5
    max_relook: float = 0.42

    def predicted(self) -> np.ndarray:
        """Where the box centre should be now."""
        centre = (self.box[:2] + self.box[2:]) / 2
        if self.velocity is None:
            return centre
        return centre + self.velocity * (1 + self.missed)

    def offset(self, box: np.ndarray) -> float:
        """Distance of a box's centre from the prediction, in the track's box heights."""
        h = max(self.box[3] - self.box[1], 1.0)
        return float(np.hypot(*((box[:2] + box[2:]) / 2 - self.predicted())) / h)

    def cost(self, box: np.ndarray, look: np.ndarray | None) -> float | None:
        h = max(self.box[3] - self.box[1], 1.0)
        centre = self.offset(box)
        size = abs(math.log(max(box[3] - box[1], 1.0) / h))
        if centre > self.max_move * (1 + self.missed) or size > math.log(self.max_size):
            return None
        looks = look_distance(self.look, look)
        if looks > (self.max_relook if self.missed and look is not None else self.max_look):
            return None
        return float(centre + size + looks)

    def choose(self, boxes: list[np.ndarray], looks: list[np.ndarray | None]) -> int | None:
        """Index of the candidate that continues this track, None if none can."""
        costs = [self.cost(b, lk) for b, lk in zip(boxes, looks, strict=True)]
        ok = [(c, i) for i, c in enumerate(costs) if c is not None]
        return min(ok)[1] if ok else None

    def update(self, box: np.ndarray | None, look: np.ndarray | None = None) -> None:
        if box is None:
            self.missed += 1
            return
        box = np.asarray(box, np.float32)
        step = ((box[:2] + box[2:]) - (self.box[:2] + self.box[2:])) / 2 / (1 + self.missed)
        # a smoothed velocity: keypoint boxes jitter by a few pixels from frame to frame
        self.velocity = step if self.velocity is None else 0.6 * self.velocity + 0.4 * step
        self.box, self.missed = box, 0
        if look is not None:  # a slow blend: lighting changes, a person does not
            self.look = look if self.look is None else (0.8 * self.look + 0.2 * look)


def draw_numbered_boxes(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """A copy of an RGB image with each box outlined and numbered 0, 1, ... in order."""
    out = np.ascontiguousarray(image.copy())
    thick = max(2, round(min(out.shape[:2]) / 250))
    for i, (x0, y0, x1, y1) in enumerate(np.asarray(boxes, dtype=float)):
        color = (255, 64, 64) if i == 0 else (255, 210, 0)
        p0, p1 = (int(x0), int(y0)), (int(x1), int(y1))
        cv2.rectangle(out, p0, p1, color, thick)
        label = str(i)
        font_scale = max(0.6, (y1 - y0) / 160)
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thick)
        top = max(int(y0), th + 2 * thick)
        cv2.rectangle(out, (int(x0), top - th - 2 * thick), (int(x0) + tw + 2 * thick, top),
                      color, -1)
        cv2.putText(out, label, (int(x0) + thick, top - thick), cv2.FONT_HERSHEY_SIMPLEX,
                    font_scale, (0, 0, 0), thick, cv2.LINE_AA)
    return out
