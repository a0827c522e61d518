"""The CPU time estimate: the same job gets the same figure across restarts, however busy
the machine was when it was first measured."""

from __future__ import annotations

import json

import animator.estimate as estimate


def test_the_speed_is_measured_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("ANIMATOR_CACHE_DIR", str(tmp_path))
    speeds = iter([2e11, 8e10])  # a quiet probe, then one slowed by other work
    monkeypatch.setattr(estimate, "_probe", lambda: next(speeds))
    estimate.cpu_flops.cache_clear()
    try:
        first = estimate.cpu_flops()
        estimate.cpu_flops.cache_clear()  # a restart
        assert estimate.cpu_flops() == first == 2e11
    finally:
        estimate.cpu_flops.cache_clear()
    assert list(json.loads((tmp_path / "cpu_speed.json").read_text()).values()) == [2e11]


def test_an_unreadable_cache_file_is_measured_again(tmp_path, monkeypatch):
    monkeypatch.setenv("ANIMATOR_CACHE_DIR", str(tmp_path))
    (tmp_path / "cpu_speed.json").write_text("[1, 2")
    monkeypatch.setattr(estimate, "_probe", lambda: 1e11)
    estimate.cpu_flops.cache_clear()
    try:
        assert estimate.cpu_flops() == 1e11
    finally:
        estimate.cpu_flops.cache_clear()
