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
