"""The networks `evaluate` needs for the scores asked for, loaded before any clip is read.

Each score that compares with a ground truth and needs weights (LPIPS, FID, FID-VID, FVD)
is refused up front, with what to fetch and where, when its file is not on the machine;
which file depends on the protocol (`protocols.py`).
"""

from __future__ import annotations

from animator.errors import InputError
from animator.evaluate.protocols import get_protocol
from animator.evaluate.truth import Networks

SCORES = (("lpips", "LPIPS"), ("fid", "FID"), ("fid_vid", "FID-VID"), ("fvd", "FVD"))


def check_network_flags(config, has_truth: bool) -> None:
    """Every network score needs a ground truth to compare with."""
    get_protocol(config.protocol)
    for flag, name in SCORES:
        if getattr(config, flag) and not has_truth:
            raise InputError(f"{name} compares with a ground truth: pass --ground-truth VIDEO "
                             "(or a folder of them).")


def load_networks(config) -> Networks:
    """The networks of the scores `config` asks for (refusing clearly when one is missing)."""
    from animator.evaluate.fid import load_fid
    from animator.evaluate.fvd import load_video_network
    from animator.evaluate.lpips import load_lpips

    protocol = get_protocol(config.protocol)
    networks = Networks()
    if config.lpips:
        networks.lpips = load_lpips(config.weights_dir, protocol.lpips_net,
                                    protocol.lpips_unit_input)
    if config.fid:
        networks.fid = load_fid(config.weights_dir)
    if config.fid_vid:
        networks.fid_vid = load_video_network("fid_vid", protocol.name, config.weights_dir)
    if config.fvd:
        networks.fvd = load_video_network("fvd", protocol.name, config.weights_dir)
    return networks


__all__ = ["SCORES", "check_network_flags", "load_networks"]
