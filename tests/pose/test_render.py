from __future__ import annotations

import math

import numpy as np
import pytest

from animator.errors import InputError
from animator.pose.render import (
    PART_COLORS,
    draw_dense,
    draw_pose,
    overlay_pose,
    render_sequence,
)
from animator.pose.skeleton import (
    DRAW_COLORS,
    DRAW_LIMBS,
    FACE,
    LEFT_HAND,
    RIGHT_HAND,
    PoseSequence,
    missing_pose,
)

# A standing person on a 512 x 768 canvas, facing the camera (their right on our left).
BODY = {
    0: (256, 120), 1: (256, 180), 2: (200, 180), 3: (150, 250), 4: (120, 320),
    5: (312, 180), 6: (362, 250), 7: (392, 320), 8: (225, 370), 9: (220, 500),
    10: (215, 630), 11: (287, 370), 12: (292, 500), 13: (297, 630), 14: (245, 108),
    15: (267, 108), 16: (232, 115), 17: (280, 115),
}  # fmt: skip
W, H = 512, 768


def make_pose(points: dict[int, tuple[float, float]], score: float = 1.0) -> np.ndarray:
    pose = missing_pose()[0]
    for j, (x, y) in points.items():
        pose[j] = (x, y, score)
    return pose


def hand(wrist: tuple[float, float], score: float = 1.0) -> np.ndarray:
    """21 hand points: five straight fingers fanning down from the wrist, 12 px apart."""
    points = [wrist]
    for f in range(5):
        angle = math.radians(60 + 15 * f)
        for k in range(1, 5):
            points.append(
                (wrist[0] + 12 * k * math.cos(angle), wrist[1] + 12 * k * math.sin(angle))
            )
    return np.array([(x, y, score) for x, y in points])


def full_pose() -> np.ndarray:
    pose = make_pose(BODY)
    pose[LEFT_HAND] = hand(BODY[7])
    pose[RIGHT_HAND] = hand(BODY[4])
    theta = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    pose[FACE, 0], pose[FACE, 1] = 256 + 22 * np.cos(theta), 118 + 28 * np.sin(theta)
    pose[FACE, 2] = 1.0
    return pose


def colors_in(image: np.ndarray) -> set[tuple[int, int, int]]:
    return set(map(tuple, np.unique(image.reshape(-1, 3), axis=0).tolist()))


def limb_color(i: int) -> tuple[int, int, int]:
    return tuple(math.floor(c * 0.6) for c in DRAW_COLORS[i])


def test_one_limb_golden_colours():
    # Right upper arm only: limb 2 in DWPose order, joints 2 (shoulder) and 3 (elbow).
    image = draw_pose(make_pose({2: (100, 100), 3: (200, 100)}), W, W)
    assert image.shape == (W, W, 3) and image.dtype == np.uint8
    assert tuple(image[100, 150]) == (153, 102, 0) == limb_color(2)
    assert tuple(image[100, 100]) == DRAW_COLORS[2]
    assert tuple(image[100, 200]) == DRAW_COLORS[3]
    assert tuple(image[110, 150]) == (0, 0, 0)
    assert colors_in(image) == {(0, 0, 0), limb_color(2), DRAW_COLORS[2], DRAW_COLORS[3]}
    # Limb half-width 4 at a 512 canvas: 9 rows around the bone's middle.
    assert np.count_nonzero(image[:, 150].any(axis=1)) in (8, 9)


def test_swap_rb_swaps_red_and_blue():
    pose = make_pose({2: (100, 100), 3: (200, 100)})
    plain, swapped = draw_pose(pose, W, W), draw_pose(pose, W, W, swap_rb=True)
    assert tuple(swapped[100, 150]) == (0, 102, 153)
    assert tuple(swapped[100, 100]) == DRAW_COLORS[2][::-1]
    np.testing.assert_array_equal(swapped, plain[..., ::-1])


def test_full_pose_draws_all_17_limbs_and_18_joints():
    image = draw_pose(full_pose(), W, H, hands=False, face=False)
    present = colors_in(image)
    limbs = {limb_color(i) for i in range(len(DRAW_LIMBS))}
    assert len(limbs & present) == 17
    assert len(set(DRAW_COLORS) & present) == 18
    assert present <= limbs | set(DRAW_COLORS) | {(0, 0, 0)}


def test_widths_follow_the_canvas_size():
    pose = make_pose({2: (100, 100), 3: (200, 100)})
    big = draw_pose(pose * [2, 2, 1], 2 * W, 2 * W)  # twice the canvas: half-width 8
    assert np.count_nonzero(big[:, 300].any(axis=1)) in (16, 17)
    thick = draw_pose(pose, W, W, line_scale=3.0)
    assert np.count_nonzero(thick[:, 150].any(axis=1)) in (24, 25)


@pytest.mark.parametrize("how", ["nan", "low_score"])
def test_missing_points_and_their_limbs_are_not_drawn(how):
    pose = full_pose()
    pose[3] = (np.nan, np.nan, 0.0) if how == "nan" else (150, 250, 0.1)
    present = colors_in(draw_pose(pose, W, H, hands=False))
    assert limb_color(2) not in present and limb_color(3) not in present  # (2,3), (3,4)
    assert DRAW_COLORS[3] not in present
    assert limb_color(4) in present and DRAW_COLORS[4] in present  # others stay


def test_all_missing_pose_is_black():
    for style in ("dwpose", "confidence"):
        image = draw_pose(missing_pose()[0], W, H, style=style, hands=True, face=True)
        assert image.shape == (H, W, 3) and not image.any()
    zero_scores = full_pose()
    zero_scores[:, 2] = 0.0
    assert not draw_pose(zero_scores, W, H, face=True).any()


def test_hands_toggle_and_threshold():
    pose = full_pose()
    with_hands = draw_pose(pose, W, H, hands=True)
    without = draw_pose(pose, W, H, hands=False)
    no_hands = pose.copy()
    no_hands[LEFT_HAND] = no_hands[RIGHT_HAND] = (np.nan, np.nan, 0.0)
    np.testing.assert_array_equal(without, draw_pose(no_hands, W, H))

    def blue(image):  # hand joints (the left knee is blue too)
        return (image == (0, 0, 255)).all(axis=2).sum()

    assert blue(with_hands) - blue(without) > 100
    # Pixels along the thumb's first edge (hand edge 0) are hsv(0) = red.
    wrist, tip = pose[RIGHT_HAND][0, :2], pose[RIGHT_HAND][1, :2]
    x, y = np.round((wrist + tip) / 2).astype(int)
    assert (with_hands[y - 1 : y + 2, x - 1 : x + 2] == (255, 0, 0)).all(axis=2).any()
    # Scores of 0.32 pass the body threshold but not the hand one.
    pose[RIGHT_HAND, 2] = pose[LEFT_HAND, 2] = 0.32
    np.testing.assert_array_equal(draw_pose(pose, W, H), without)


def test_face_toggle():
    pose = full_pose()
    white = (draw_pose(pose, W, H, face=True) == 255).all(axis=2).sum()
    assert white > 300
    assert not (draw_pose(pose, W, H, face=False) == 255).all(axis=2).any()


def test_confidence_style_darkens_and_drops_limbs():
    pose = make_pose({2: (100, 100), 3: (200, 100), 5: (100, 300), 6: (200, 300)})
    pose[[2, 3], 2] = (0.5, 0.8)
    image = draw_pose(pose, W, W, style="confidence", line_scale=1.0)
    expected = tuple(math.floor(math.floor(c * 0.4) * 0.6) for c in DRAW_COLORS[2])
    assert tuple(image[100, 150]) == expected  # limb (2, 3) scaled by 0.5 * 0.8
    assert tuple(image[300, 150]) == limb_color(4)  # confidence 1: the plain colour
    assert tuple(image[100, 100]) == tuple(math.floor(c * 0.5) for c in DRAW_COLORS[2])
    pose[3, 2] = 0.25
    dropped = draw_pose(pose, W, W, style="confidence", line_scale=1.0)
    assert not dropped[95:106, 110:190].any()


def test_confidence_style_is_thinner_by_default():
    pose = full_pose()
    plain = draw_pose(pose, W, H, hands=False).any(axis=2).sum()
    thin = draw_pose(pose, W, H, hands=False, style="confidence").any(axis=2).sum()
    assert 0 < thin < 0.75 * plain


def test_render_sequence_scales_to_the_output_size():
    pose = make_pose({2: (20, 50), 3: (60, 50)})
    seq = PoseSequence(np.stack([pose, missing_pose()[0]]), width=100, height=200)
    frames = list(render_sequence(seq, 200, 400))
    assert len(frames) == 2 and frames[0].shape == (400, 200, 3)
    assert tuple(frames[0][100, 40]) == DRAW_COLORS[2]
    assert tuple(frames[0][100, 120]) == DRAW_COLORS[3]
    assert not frames[1].any()
    own = next(render_sequence(seq, swap_rb=True))
    assert own.shape == (200, 100, 3) and tuple(own[50, 20]) == DRAW_COLORS[2][::-1]


def test_overlay_keeps_size_and_blends_over_a_dimmed_image():
    image = np.full((300, 200, 3), 200, np.uint8)
    pose = make_pose({2: (50, 100), 3: (150, 100)})
    out = overlay_pose(image, pose, alpha=0.7)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert tuple(out[10, 10]) == (150, 150, 150)  # dimmed only
    expected = np.round(0.7 * np.array(DRAW_COLORS[2]) + 0.3 * 150)
    np.testing.assert_allclose(out[100, 50], expected, atol=1)
    with pytest.raises(InputError, match="RGB uint8"):
        overlay_pose(image.astype(np.float32), pose)


def test_bad_input_raises_input_error():
    with pytest.raises(InputError, match="134"):
        draw_pose(np.zeros((18, 3)), W, H)
    with pytest.raises(InputError, match="style"):
        draw_pose(full_pose(), W, H, style="openpose")
    with pytest.raises(InputError, match="positive"):
        draw_pose(full_pose(), 0, H)
    far = full_pose()
    far[4, :2] = (1e12, -1e12)  # absurd but finite: drawn clipped, no cv2 error
    assert draw_pose(far, W, H).shape == (H, W, 3)


# --- dense maps ------------------------------------------------------------------------


def area(image: np.ndarray, part: str) -> int:
    return int((image == PART_COLORS[part]).all(axis=2).sum())


def test_dense_map_has_every_part():
    pose = full_pose()
    feet = {18: (305, 650), 19: (320, 645), 20: (297, 640), 21: (207, 650), 22: (192, 645),
            23: (215, 640)}  # fmt: skip
    for j, (x, y) in feet.items():
        pose[j] = (x, y, 1.0)
    image = draw_dense(pose, W, H)
    assert image.shape == (H, W, 3) and image.dtype == np.uint8
    assert colors_in(image) == set(PART_COLORS.values()) | {(0, 0, 0)}
    for part in PART_COLORS:
        assert area(image, part) > 30, part
    # The person's right side is on the image's left.
    assert tuple(image[215, 175]) == PART_COLORS["right_upper_arm"]
    assert tuple(image[215, 337]) == PART_COLORS["left_upper_arm"]
    assert tuple(image[280, 256]) == PART_COLORS["torso"]
    assert tuple(image[110, 256]) == PART_COLORS["head"]


def test_dense_map_for_upper_body_only():
    pose = make_pose({j: BODY[j] for j in (0, 1, 2, 3, 4, 5, 6, 7, 14, 15, 16, 17)})
    image = draw_dense(pose, W, H)
    torso = (image == PART_COLORS["torso"]).all(axis=2)
    rows = np.nonzero(torso.any(axis=1))[0]
    assert torso.sum() > 10000 and rows.max() > 300  # reaches well below the shoulders
    assert area(image, "head") > 500 and area(image, "right_hand") > 50
    assert area(image, "right_thigh") == 0


def test_dense_map_draws_arms_in_front_and_scales_with_the_body():
    pose = make_pose(BODY)
    pose[4, :2] = (300, 300)  # right forearm across the belly
    image = draw_dense(pose, W, H)
    assert tuple(image[275, 225]) == PART_COLORS["right_forearm"]
    half = make_pose({j: (256 + (x - 256) / 2, y / 2) for j, (x, y) in BODY.items()})
    small = draw_dense(half, W, H)
    ratio = area(image, "right_thigh") / area(small, "right_thigh")
    assert 3.0 < ratio < 5.0  # twice the size: four times the area


def test_dense_map_of_nothing_is_black():
    assert not draw_dense(missing_pose()[0], W, H).any()



def test_neck_follows_dwpose_drawing_rule():
    """DWPose (MimicMotion's dwpose/wholebody.py) draws the neck, at full confidence, only
    when both shoulders score above the threshold, whatever the neck's stored score (the
    shoulders' mean, which passes 0.3 here although the right shoulder does not)."""
    points = {0: BODY[0], 1: BODY[1], 2: BODY[2], 5: BODY[5]}
    weak = make_pose(points)
    weak[2, 2], weak[1, 2] = 0.1, 0.55  # right shoulder under 0.3; neck = mean(0.1, 1.0)
    no_neck = weak.copy()
    no_neck[1] = (np.nan, np.nan, 0.0)
    for style in ("dwpose", "confidence"):
        np.testing.assert_array_equal(draw_pose(weak, W, H, style=style),
                                      draw_pose(no_neck, W, H, style=style))
    faint = make_pose(points)
    faint[1, 2] = 0.4  # both shoulders seen: the neck is drawn at full confidence
    np.testing.assert_array_equal(draw_pose(faint, W, H, style="confidence"),
                                  draw_pose(make_pose(points), W, H, style="confidence"))
