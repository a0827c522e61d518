"""Whole-body poses: layout, detection, retargeting, rendering, built-in motions."""

from animator.pose.skeleton import NUM_KEYPOINTS, PoseSequence

__all__ = ["NUM_KEYPOINTS", "PoseSequence"]
