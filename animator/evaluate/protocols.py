"""The two ways of scoring against a ground truth, and what every reported number means.

- `standard` (the default): the textbook definitions, as the reference packages compute
  them: L1 on [0, 1] intensities, PSNR in float (identical frames: infinity), SSIM on RGB
  with an 11x11 Gaussian window (`pixels.py`), LPIPS-AlexNet fed [-1, 1] (`lpips.py`),
  FID with pytorch-fid's Inception (`fid.py`), FID-VID and FVD on non-overlapping 16-frame
  windows, FVD with StyleGAN-V's I3D (`fvd.py`).
- `disco`: DisCo's public evaluation code, whose conventions the TikTok tables of DisCo,
  Animate Anyone, MagicAnimate, MimicMotion and UniAnimate inherit: L1 over H * W, PSNR on
  wrapping uint8 (plus the corrected PSNR*), grayscale 7x7 SSIM (`disco.py`), VGG-LPIPS
  fed [0, 1], FID-VID with a 3D ResNet-50 and FVD with pytorch-i3d's I3D on windows at
  every frame (`fvd.py`). Use it to put a number beside a paper's; use `standard` to judge.

Every output names its protocol (the `protocol` column, the report's heading).
`DESCRIPTIONS` is the one line the report shows for each number: what it measures and
which direction is better.
"""

from __future__ import annotations

from dataclasses import dataclass

from animator.errors import InputError


@dataclass(frozen=True)
class Protocol:
    name: str
    title: str  # shown in the report's heading
    lpips_net: str  # "alex" or "vgg"
    lpips_unit_input: bool  # LPIPS fed [0, 1] instead of [-1, 1]


PROTOCOLS = {
    "standard": Protocol("standard", "standard (reference definitions)", "alex", False),
    "disco": Protocol("disco", "DisCo (Wang et al. 2024, its public evaluation code: the "
                      "conventions of the TikTok tables)", "vgg", True),
}


def get_protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise InputError(f"Unknown protocol {name!r}: use one of {', '.join(PROTOCOLS)}.")
    return PROTOCOLS[name]


# key -> (label, one line: what it measures, better direction); {disco} variants below.
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "pose_error": ("pose error", "distance of the re-detected keypoints from the target "
                   "poses, in torso (or head) lengths; lower is better"),
    "pck_0_05": ("PCK@.05", "share of target keypoints re-detected within 5 % of the body "
                 "size; higher is better"),
    "pck_0_1": ("PCK@.1", "share of target keypoints re-detected within 10 % of the body "
                "size; higher is better"),
    "lost_frames": ("lost", "frames where the target shows a person and none is found; "
                    "lower is better"),
    "jitter": ("jitter", "keypoint acceleration per frame in body sizes (the target's own "
               "is the floor); lower is better"),
    "flicker": ("flicker", "warping error between consecutive frames, 8-bit levels; lower "
                "is better"),
    "csim": ("CSIM", "ArcFace cosine similarity of each frame's face to the portrait's; "
             "higher is better"),
    "csim_min": ("CSIM min", "the worst frame's CSIM; higher is better"),
    "l1": ("L1", "mean absolute difference from the ground truth, intensities in [0, 1]; "
           "lower is better"),
    "psnr": ("PSNR", "peak signal-to-noise ratio against the ground truth, dB; higher is "
             "better"),
    "ssim": ("SSIM", "structural similarity to the ground truth (RGB, 11x11 Gaussian "
             "window), up to 1; higher is better"),
    "lpips": ("LPIPS", "learned perceptual distance to the ground truth (AlexNet); lower is "
              "better"),
    "fid": ("FID", "Fréchet distance of Inception features of the frames to the ground "
            "truth's; lower is better"),
    "fid_vid": ("FID-VID", "Fréchet distance of 3D-ResNet features of 16-frame windows; "
                "lower is better"),
    "fvd": ("FVD", "Fréchet distance of I3D features of 16-frame windows; lower is better"),
    "build_error_vs_portrait": ("build err (portrait)", "mean relative error of the bone "
                                "ratios against the portrait's; lower is better"),
    "build_error_vs_driver": ("build err (driver)", "the same against the driver's; higher "
                              "is better (below the portrait's: the clip took the driver's "
                              "build)"),
    "build_shift": ("build shift", "0: the portrait's proportions, 1: the driver's; nearer "
                    "0 is better"),
    "duration_error": ("dur err s", "clip length minus the target's, seconds; nearer 0 is "
                       "better"),
    "has_audio": ("audio", "whether the clip has sound; yes is better when the driver has "
                  "sound"),
    "audio_lag_error": ("lag err s", "audio offset minus the expected one, seconds; nearer "
                        "0 is better"),
}
DISCO_DESCRIPTIONS = {
    "l1": ("L1", "DisCo's L1: mean absolute difference in 0-255 levels divided by H x W; "
           "lower is better"),
    "psnr": ("PSNR", "DisCo's PSNR, squared error on wrapping uint8 as in its tables "
             "(identical frames 100 dB); higher is better"),
    "psnr_star": ("PSNR*", "DisCo's corrected PSNR (float error), as later papers print "
                  "it; higher is better"),
    "ssim": ("SSIM", "DisCo's SSIM: grayscale, 7x7 uniform window; higher is better"),
    "lpips": ("LPIPS", "DisCo's LPIPS: VGG fed [0, 1] images; lower is better"),
    "fid_vid": ("FID-VID", "DisCo's FID-VID: 3D ResNet-50 features of 16-frame windows at "
                "every frame; lower is better"),
    "fvd": ("FVD", "DisCo's FVD: pytorch-i3d logits of 16-frame windows at every frame; "
            "lower is better"),
}


def describe(key: str, protocol: str = "standard") -> tuple[str, str] | None:
    """(label, one line) for a reported number, as `protocol` computes it."""
    if protocol == "disco" and key in DISCO_DESCRIPTIONS:
        return DISCO_DESCRIPTIONS[key]
    return DESCRIPTIONS.get(key)


__all__ = ["DESCRIPTIONS", "PROTOCOLS", "Protocol", "describe", "get_protocol"]
