"""Window planning and blend weights (animator.families.svd.windows), without a model."""

from __future__ import annotations

import pytest
import torch

from animator.errors import InputError
from animator.families.svd.windows import blend_weights, plan_windows


@pytest.mark.parametrize("anchor", [False, True])
def test_plan_for_long_clip_computes_few_frames(anchor):
    windows = plan_windows(150, 72, 6, anchor)
    assert sum(map(len, windows)) <= 1.10 * 150
    assert len(windows) == 3 and all(len(w) <= 72 for w in windows)
    frames = [i for w in windows for i in w]
    assert set(frames) == set(range(int(anchor), 150 + int(anchor))) | ({0} if anchor else set())
    for a, b in zip(windows, windows[1:], strict=False):
        assert len(set(a[int(anchor):]) & set(b)) == 6
    if anchor:
        assert all(w[0] == 0 and 0 not in w[1:] for w in windows)


@pytest.mark.parametrize("n,window,overlap,anchor", [
    (1, 16, 4, False), (16, 16, 4, False), (17, 16, 4, False), (16, 16, 4, True),
    (100, 16, 0, False), (37, 5, 3, True), (1000, 72, 6, True),
])
def test_plan_covers_every_frame_with_minimal_windows(n, window, overlap, anchor):
    windows = plan_windows(n, window, overlap, anchor)
    span = window - int(anchor)
    minimal = 1 if n <= span else -(-(n - overlap) // (span - overlap))
    assert len(windows) == minimal
    assert all(len(w) <= window for w in windows)
    body = [w[int(anchor):] for w in windows]
    assert all(w == list(range(w[0], w[0] + len(w))) for w in body)
    assert body[0][0] == int(anchor) and body[-1][-1] == n - 1 + int(anchor)
    for a, b in zip(body, body[1:], strict=False):
        assert a[-1] - b[0] + 1 == overlap
    weights = blend_weights(windows, n + int(anchor), anchor)
    total = torch.zeros(n + int(anchor))
    for idx, w in zip(windows, weights, strict=True):
        assert (w > 0).all()
        total[idx] += w
    torch.testing.assert_close(total, torch.ones_like(total))


def test_plan_rejects_windows_without_room():
    with pytest.raises(InputError, match="window of at least 6"):
        plan_windows(20, 5, 4, anchor=True)


def test_public_plan_is_the_public_pipelines_windows():
    """MimicMotion's and StableAnimator's pipelines (their `indices`): a window starts every
    tile - overlap frames, holds clip frame 0 and the tile - 1 frames after its start, and
    when those stop short one more window ends on the clip's last frame. MimicMotion's
    72/6 on 150 frames plus the anchor: windows open at 0 and 66, then one ends at 150;
    216 frames computed for 150 delivered (1.44x), ours 1.10x."""
    from animator.families.svd.windows import computed_frames, plan_public_windows

    windows = plan_public_windows(151, 72, 6)
    assert [w[:2] + w[-1:] for w in windows] == [[0, 1, 71], [0, 67, 137], [0, 80, 150]]
    assert all(len(w) == 72 and w[1:] == list(range(w[1], w[1] + 71)) for w in windows)
    assert computed_frames(windows) / 150 == pytest.approx(1.44)
    assert computed_frames(plan_windows(150, 72, 6, True)) / 150 == pytest.approx(1.10, abs=0.01)
    # StableAnimator's 16/4 on a 28-frame clip (no anchor; frame 0 still in every window)
    assert plan_public_windows(28, 16, 4) == [list(range(16)), [0, *range(13, 28)]]
    assert plan_public_windows(16, 16, 4) == [list(range(16))]  # ends on the last frame
    assert plan_public_windows(5, 16, 4) == [list(range(5))]
    with pytest.raises(InputError):
        plan_public_windows(30, 4, 4)


def test_public_blend_is_their_tent():
    """Their weight at position p of a 16-frame window: min(x, 2 - x), x = (p + 0.5) * 2 / 16,
    so 1/16 at both ends and 15/16 mid-window; each frame's weights over its windows are
    normalised (they divide by the summed weights)."""
    from animator.families.svd.windows import plan_public_windows, public_blend_weights

    windows = plan_public_windows(28, 16, 4)
    weights = public_blend_weights(windows, 28)
    raw = torch.tensor([min((p + 0.5) / 8, 2 - (p + 0.5) / 8) for p in range(16)])
    total = torch.zeros(28)
    for idx in windows:
        total[idx] += raw
    for idx, w in zip(windows, weights, strict=True):
        torch.testing.assert_close(w, raw / total[idx])
    assert raw[0] == 1 / 16 and raw[7] == raw[8] == 15 / 16
