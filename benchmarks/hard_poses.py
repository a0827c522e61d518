"""Retargeted poses from hard footage: chest-up close-ups, small people in a wide shot, and
portraits that are not standing front-on (issue 20).

For each clip the driving poses are detected as `Animator` detects them (MediaPipe, the
offline default, long side 640 px unless the clip says otherwise, implausible joints
removed), retargeted onto the portrait with the default settings plus the 0.5 s lead-in
(`CONFIG`), and the output judged:

- frames with a skeleton: output frames (lead-in included) that draw a body;
- implausible: share of those that no adult body allows (`implausible_frames`: hips above
  the neck, knees above the hips, shoulder span outside 0.6-8 heads, a bone beyond twice
  its adult length);
- after lead-in: the same without the lead-in frames (those start at the portrait's own
  pose, which an edge-on portrait makes implausible by itself);
- detected: share of driving frames in which the detector found the person;
- invented legs: output frames that draw hips, legs or feet inside the portrait's picture
  when neither the portrait nor the driving video within the gap filling's reach (12
  frames) shows any;
- shoulders: the output's median shoulder span over the portrait's (1 = the portrait's
  build, the close-up "drawn smaller" flaw is < 1).

Plus the people found in multi-person frames against the people visible there.

    .venv/bin/python benchmarks/hard_poses.py           # every clip
    .venv/bin/python benchmarks/hard_poses.py close     # the clips whose name has "close"

Real media are Debian's opencv-doc samples (/usr/share/doc/opencv-doc/examples/data, never
copied into the repository) and assets/; crafted cases are built here from the built-in
"dance" motion. A clip whose media are missing is skipped with the reason.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from animator.config import InputLimits, RetargetConfig  # noqa: E402
from animator.people_choice import detect_portrait_pose  # noqa: E402
from animator.pose import skeleton as sk  # noqa: E402
from animator.pose.detect import MediaPipeDetector, keypoint_box  # noqa: E402
from animator.pose.motions import make_motion  # noqa: E402
from animator.pose.plausibility import check_poses, implausible_frames  # noqa: E402
from animator.pose.retarget import MAX_GAP, retarget  # noqa: E402
from animator.video import read_image, read_video  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/usr/share/doc/opencv-doc/examples/data")
LOWER = np.array([sk.R_HIP, sk.L_HIP, sk.R_KNEE, sk.L_KNEE, sk.R_ANKLE, sk.L_ANKLE,
                  *range(18, 24)])
# the defaults with the 0.5 s lead-in from the portrait's pose on (the default until
# 2026-12-03, when the baseline was taken; it is the harder case: it starts at the portrait)
CONFIG = RetargetConfig(transition=0.5)
_LOCK = threading.Lock()
_DETECTOR: MediaPipeDetector | None = None
_CACHE: dict = {}


def detector() -> MediaPipeDetector:
    global _DETECTOR
    if _DETECTOR is None:
        _DETECTOR = MediaPipeDetector()
    return _DETECTOR


def need(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing (install Debian's opencv-doc)")
    return path


# --- drivers --------------------------------------------------------------------------------


def video_driver(name: str, person: int = 0, max_side: int = 640, end: float | None = None
                 ) -> sk.PoseSequence:
    """Poses of `person` in a video (opencv-doc's, or a path under the repository),
    detected and checked as Animator does."""
    key = (name, person, max_side, end)
    if key not in _CACHE:
        path = ROOT / name if "/" in name else need(DATA / name)
        clip = read_video(path, end=end, limits=InputLimits(max_side=max_side))
        height, width = clip.frames[0].shape[:2]
        poses = detector().detect_video(clip.frames, clip.fps, width, height, person=person)
        _CACHE[key] = check_poses(poses)[0]
    return _CACHE[key]


def dance() -> sk.PoseSequence:
    """A front-facing full-body dance (the built-in motion), 4 s at 25 fps."""
    return make_motion("dance", seconds=4.0, fps=25.0)


# --- portraits ------------------------------------------------------------------------------


def image_portrait(image: np.ndarray) -> sk.PoseSequence:
    return detect_portrait_pose(detector(), _LOCK, image, 0)[0]


def astronaut_chest_up() -> sk.PoseSequence:
    """The astronaut photo cut just under the chest: no hips in the picture."""
    image = read_image(ROOT / "assets/portraits/astronaut.jpg")
    return image_portrait(np.ascontiguousarray(image[: int(0.62 * image.shape[0])]))


def astronaut() -> sk.PoseSequence:
    """The astronaut photo as it is: waist up, the hips at the bottom edge."""
    return image_portrait(read_image(ROOT / "assets/portraits/astronaut.jpg"))


def messi() -> sk.PoseSequence:
    return image_portrait(read_image(need(DATA / "messi5.jpg")))


def pedestrian_side_on() -> sk.PoseSequence:
    """A walker of vtest.avi seen side-on, cut out of the frame and upscaled 4x, as a user
    would upload a crop of a street photo."""
    import cv2

    clip = read_video(need(DATA / "vtest.avi"), end=0.2, limits=InputLimits(max_side=768))
    frame = clip.frames[0]
    people = detector().detect_people(frame)
    box = keypoint_box(people[0])
    height, width = frame.shape[:2]
    grow = 0.35 * (box[3] - box[1])
    x0, y0 = int(max(0, box[0] - grow)), int(max(0, box[1] - grow))
    x1, y1 = int(min(width, box[2] + grow)), int(min(height, box[3] + grow))
    crop = cv2.resize(frame[y0:y1, x0:x1], None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    return image_portrait(np.ascontiguousarray(crop))


def _crafted(squash_x: float = 1.0, thigh: float = 1.0, shin: float = 1.0,
             arms: float = 1.0) -> sk.PoseSequence:
    """The dance's first frame as a portrait seen from another angle: horizontal spans
    times `squash_x` about the neck (1: front-on, ~0.15: side-on) and thighs, shins or arms
    foreshortened (crouching, sitting)."""
    kp = dance().keypoints[:1].copy()
    xy = kp[0, :, :2]
    neck = xy[sk.NECK].copy()
    xy[:, 0] = neck[0] + squash_x * (xy[:, 0] - neck[0])
    body = {sk.R_KNEE: (sk.R_HIP, thigh), sk.L_KNEE: (sk.L_HIP, thigh),
            sk.R_ANKLE: (sk.R_KNEE, shin), sk.L_ANKLE: (sk.L_KNEE, shin),
            sk.R_ELBOW: (sk.R_SHOULDER, arms), sk.L_ELBOW: (sk.L_SHOULDER, arms),
            sk.R_WRIST: (sk.R_ELBOW, arms), sk.L_WRIST: (sk.L_ELBOW, arms)}
    for joint in (sk.R_KNEE, sk.L_KNEE, sk.R_ANKLE, sk.L_ANKLE, sk.R_ELBOW, sk.L_ELBOW,
                  sk.R_WRIST, sk.L_WRIST):
        parent, factor = body[joint]
        old = xy[joint].copy()
        xy[joint] = xy[parent] + factor * (old - xy[parent]) if factor != 1 else old
        shift = xy[joint] - old
        hangs = {sk.R_ANKLE: [21, 22, 23], sk.L_ANKLE: [18, 19, 20],
                 sk.R_WRIST: list(range(113, 134)), sk.L_WRIST: list(range(92, 113))}
        below = {sk.R_KNEE: [sk.R_ANKLE, 21, 22, 23], sk.L_KNEE: [sk.L_ANKLE, 18, 19, 20],
                 sk.R_ELBOW: [sk.R_WRIST, *range(113, 134)],
                 sk.L_ELBOW: [sk.L_WRIST, *range(92, 113)]}.get(joint, hangs.get(joint, []))
        xy[below] += shift
    return sk.PoseSequence(kp, 512, 768)


# --- the clips ------------------------------------------------------------------------------


@dataclass
class Clip:
    name: str
    kind: str
    driver: object  # () -> PoseSequence
    portrait: object  # () -> PoseSequence


CLIPS = [
    Clip("close-up: Megamind.avi onto the astronaut cut chest-up", "close-up",
         lambda: video_driver("Megamind.avi"), astronaut_chest_up),
    Clip("close-up: Megamind.avi onto a Megamind frame", "close-up",
         lambda: video_driver("Megamind.avi"),
         lambda: sk.PoseSequence(video_driver("Megamind.avi").keypoints[40:41], 640, 470)),
    Clip("close-up: Megamind.avi onto the astronaut (waist up)", "close-up",
         lambda: video_driver("Megamind.avi"), astronaut),
    Clip("close-up: astronaut_sway.mp4 (assets) onto the astronaut cut chest-up", "close-up",
         lambda: video_driver("assets/driving/astronaut_sway.mp4"), astronaut_chest_up),
    Clip("close-up: astronaut_sway.mp4 onto a Megamind frame", "close-up",
         lambda: video_driver("assets/driving/astronaut_sway.mp4"),
         lambda: sk.PoseSequence(video_driver("Megamind.avi").keypoints[40:41], 640, 470)),
    Clip("close-up: Megamind.avi onto messi5 (full body)", "close-up",
         lambda: video_driver("Megamind.avi"), messi),
    Clip("wide shot: vtest.avi at 480 px (~60 px people), person 0, onto messi5", "wide shot",
         lambda: video_driver("vtest.avi", 0, 480, 10.0), messi),
    Clip("wide shot: vtest.avi at 480 px, person 1, onto messi5", "wide shot",
         lambda: video_driver("vtest.avi", 1, 480, 10.0), messi),
    Clip("wide shot: vtest.avi at 480 px, person 2, onto messi5", "wide shot",
         lambda: video_driver("vtest.avi", 2, 480, 10.0), messi),
    Clip("non-frontal: dance onto a side-on vtest walker (crop x4)", "non-frontal", dance,
         pedestrian_side_on),
    Clip("non-frontal: dance onto messi5 (mid-kick)", "non-frontal", dance, messi),
    Clip("non-frontal: dance onto a crafted side-on portrait (turned ~75 deg)", "non-frontal",
         dance, lambda: _crafted(squash_x=0.25)),
    Clip("non-frontal: dance onto a crafted edge-on portrait (turned ~85 deg)", "non-frontal",
         dance, lambda: _crafted(squash_x=0.1)),
    Clip("non-frontal: dance onto a crafted crouch", "non-frontal", dance,
         lambda: _crafted(thigh=0.3, shin=0.8)),
    Clip("non-frontal: dance onto a crafted sitting pose", "non-frontal", dance,
         lambda: _crafted(thigh=0.1, arms=0.6)),
]


def _shows_lower(poses: sk.PoseSequence) -> np.ndarray:
    return poses.valid()[:, LOWER].any(axis=1)


def judge(clip: Clip) -> dict:
    driver, portrait = clip.driver(), clip.portrait()
    result = retarget(driver, portrait, CONFIG)
    out = result.poses
    drawn = out.present()
    bad = implausible_frames(out.keypoints) & drawn
    lead = result.lead_in
    # a driving frame "shows" the lower body when it or a frame within the gap filling's
    # reach (MAX_GAP) does; drawn = inside the portrait's picture
    used = _shows_lower(driver)[result.driver_start:]
    near = np.convolve(used, np.ones(2 * MAX_GAP + 1), mode="same") > 0
    driver_lower = np.zeros(len(out), dtype=bool)
    driver_lower[lead:lead + len(near)] = near[: len(out) - lead]
    if _shows_lower(portrait)[0]:
        driver_lower[:] = True
    x, y = out.keypoints[:, LOWER, 0], out.keypoints[:, LOWER, 1]
    with np.errstate(invalid="ignore"):
        inside = out.valid()[:, LOWER] & (x >= 0) & (x < out.width) & (y >= 0) & (y < out.height)
    invented = inside.any(axis=1) & ~driver_lower
    p_span = np.hypot(*(portrait.keypoints[0, sk.R_SHOULDER, :2]
                        - portrait.keypoints[0, sk.L_SHOULDER, :2]))
    o_span = np.hypot(*(out.keypoints[:, sk.R_SHOULDER, :2]
                        - out.keypoints[:, sk.L_SHOULDER, :2]).T)
    return {
        "frames": len(out), "drawn": int(drawn.sum()),
        "implausible": float(bad.sum() / max(drawn.sum(), 1)),
        "implausible_after": float(bad[lead:].sum() / max(drawn[lead:].sum(), 1)),
        "detected": float(driver.present().mean()), "invented": int(invented.sum()),
        "shoulders": float(np.nanmedian(o_span) / p_span) if p_span > 0 else float("nan"),
        "scale": result.scale, "notices": result.notices,
    }


def people_rows() -> list[tuple[str, int, int]]:
    """(frame, people found, people visible) for multi-person frames."""
    rows = []
    clip = read_video(need(DATA / "Megamind.avi"), start=0.15, end=0.3,
                      limits=InputLimits(max_side=640))
    rows.append(("Megamind.avi at 640 px, 0.15 s (woman + blurred man)",
                 len(detector().detect_people(clip.frames[0])), 2))
    clip = read_video(need(DATA / "vtest.avi"), end=0.2, limits=InputLimits(max_side=640))
    rows.append(("vtest.avi at 640 px, frame 0 (three walkers)",
                 len(detector().detect_people(clip.frames[0])), 3))
    return rows


def main(filters: list[str]) -> None:
    start = time.perf_counter()
    print("| clip | frames with a skeleton | implausible | after lead-in | detected | "
          "invented legs | shoulders out/portrait | body scale |")
    print("|---|---|---|---|---|---|---|---|")
    for clip in CLIPS:
        if filters and not any(f in clip.name for f in filters):
            continue
        try:
            r = judge(clip)
        except FileNotFoundError as e:
            print(f"| {clip.name} | skipped: {e} |")
            continue
        print(f"| {clip.name} | {r['drawn']}/{r['frames']} | {100 * r['implausible']:.1f} % | "
              f"{100 * r['implausible_after']:.1f} % | {100 * r['detected']:.0f} % | "
              f"{r['invented']} | {r['shoulders']:.2f} | x{r['scale']:.2f} |")
        for note in r["notices"]:
            print(f"|   note: {note} |")
    if not filters or any(f in "people" for f in filters):
        print()
        print("| multi-person frame | people boxed | people visible |")
        print("|---|---|---|")
        for name, found, visible in people_rows():
            print(f"| {name} | {found} | {visible} |")
    print(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
