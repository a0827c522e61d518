"""Pose-driven human image animation: one portrait + a driving motion -> a video."""

from animator.config import InputLimits, RetargetConfig
from animator.errors import InputError
from animator.pose.skeleton import PoseSequence

__all__ = ["InputError", "InputLimits", "PoseSequence", "RetargetConfig"]
__version__ = "0.1.0"
