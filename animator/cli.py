"""Command line: `python -m animator {pose,...}`.

Exit codes: 0 done, 2 bad input (the message says what to do), 1 a bug.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from animator.config import RetargetConfig
from animator.errors import Cancelled, InputError
from animator.families.svd.config import GENERATION_CHOICES
from animator.pose.skeleton import POSE_FILE_SUFFIXES, PoseSequence


def _add_retarget_options(parser: argparse.ArgumentParser) -> None:
    d = RetargetConfig()
    group = parser.add_argument_group("retargeting")
    group.add_argument("--transition", type=float, default=d.transition,
                       help="seconds of lead-in from the portrait's pose, 0 = off (%(default)s)")
    group.add_argument("--smoothing", type=int, default=d.smoothing,
                       help="smoothing window in frames, 0 = off (%(default)s)")
    group.add_argument("--root-motion", type=float, default=d.root_motion,
                       help="share of the driver's travel kept, 0-1 (%(default)s)")
    group.add_argument("--no-ground", action="store_true",
                       help="do not put the feet on the portrait's ground line")
    group.add_argument("--start-at-closest", action="store_true",
                       help="start at the driving frame closest to the portrait's pose")
    group.add_argument("--scale", action="append", default=[], metavar="GROUP=X",
                       help="extra length multiplier for a body part, e.g. --scale arms=1.1")


def _retarget_config(args) -> RetargetConfig:
    multipliers = {}
    for item in args.scale:
        group, sep, value = item.partition("=")
        try:
            multipliers[group] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise InputError(f"--scale takes GROUP=NUMBER (e.g. arms=1.1), got {item!r}.")
    return RetargetConfig(
        transition=args.transition, smoothing=args.smoothing, root_motion=args.root_motion,
        ground=not args.no_ground, start_at_closest=args.start_at_closest,
        multipliers=multipliers,
    )


def _add_driving_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--video", type=Path, help="driving video, or a pose .json/.npz file")
    source.add_argument("--motion", help="built-in motion name (see --list-motions)")
    parser.add_argument("--start", type=float, default=0.0, help="start time in seconds")
    parser.add_argument("--end", type=float, default=None, help="end time in seconds")
    parser.add_argument("--fps", type=float, default=None,
                        help="frames per second taken from the driving video (default: its own; "
                        "30 with wan-animate)")
    parser.add_argument("--pose-backend", default="auto", choices=["auto", "dwpose", "mediapipe"])
    parser.add_argument("--weights-dir", type=Path, default=None,
                        help="folder with local model files (e.g. DWPose ONNX)")
    parser.add_argument("--person", type=int, default=0, metavar="N",
                        help="which person of the portrait to animate: 0 = the largest, "
                             "1 = the next, ... (see the `people` command)")
    parser.add_argument("--driving-person", type=int, default=0, metavar="N",
                        help="which person of the driving video drives: 0 = the largest in "
                             "its first frame with people, followed through the video")


VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov")  # the writer makes MP4 files


def _check_outputs(args) -> None:
    """Refuse output paths that cannot be written before any work is done."""
    outputs = [(flag, getattr(args, flag.lstrip("-"), None), suffixes)
               for flag, suffixes in (("--out", VIDEO_SUFFIXES),
                                      ("--comparison", VIDEO_SUFFIXES),
                                      ("--json", POSE_FILE_SUFFIXES))]
    for flag, path, suffixes in outputs:
        if path is None:
            continue
        if path.suffix.lower() not in suffixes:
            raise InputError(f"{flag} {path} must end in {' or '.join(suffixes)}.")
        folder = path.parent
        if not folder.is_dir():
            raise InputError(f"The folder {folder} for {flag} does not exist; create it or "
                             "choose another path.")
        if path.is_dir():
            raise InputError(f"{flag} {path} is a folder; give a file name.")


def cmd_pose(args) -> None:
    from animator.animate import Animator

    _check_outputs(args)
    animator = Animator(pose_backend=args.pose_backend, weights_dir=args.weights_dir)
    with tempfile.TemporaryDirectory() as tmp:
        result = animator.preview_pose(
            args.image, args.motion or args.video, retarget_config=_retarget_config(args),
            fps=args.fps, start=args.start, end=args.end, out_dir=tmp,
            person=args.person, driving_person=args.driving_person,
        )
        shutil.move(result.video, args.out)
    if args.json:
        result.retargeted.poses.save(args.json)
    for line in result.notices:
        print(f"note: {line}", file=sys.stderr)
    print(args.out)


def _add_generation_options(parser: argparse.ArgumentParser) -> None:
    """Generation settings; anything left out takes the preset's default."""
    g = parser.add_argument_group("generation (default: the preset's)")
    g.add_argument("--preset", default=None,
                   help="stableanimator, mimicmotion, tiny, wan-animate or local:<dir> "
                   "(default: stableanimator with a GPU, tiny without)")
    g.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    g.add_argument("--low-memory", action="store_true",
                   help="offload idle models, guidance in sequence, small decode chunks")
    g.add_argument("--width", type=int, help="output width (with --height; default: by the "
                   "portrait's aspect)")
    g.add_argument("--height", type=int, help="output height")
    g.add_argument("--seed", type=int, help="random seed (default: the preset's)")
    g.add_argument("--steps", type=int, dest="num_inference_steps", help="denoising steps")
    g.add_argument("--min-guidance", type=float, dest="min_guidance_scale")
    g.add_argument("--max-guidance", type=float, dest="max_guidance_scale")
    g.add_argument("--window", type=int, help="frames denoised together")
    g.add_argument("--overlap", type=int, help="frames shared by neighbouring windows")
    g.add_argument("--pose-strength", type=float)
    g.add_argument("--identity-strength", type=float)
    g.add_argument("--decode-chunk", type=int, dest="decode_chunk_size")
    g.add_argument("--cfg-mode", choices=["batched", "sequential"])
    g.add_argument("--continuation", action="store_true", default=None,
                   help="windows one after another, each from the previous last frame")
    g.add_argument("--window-noise", choices=GENERATION_CHOICES["window_noise"],
                   help="independent noise per frame, or one window's noise repeated along "
                   "the clip (the public StableAnimator/MimicMotion code)")
    g.add_argument("--generator-device", choices=GENERATION_CHOICES["generator_device"],
                   help="where the seed's noise is drawn: cuda (or auto on a GPU) reproduces "
                   "the public scripts' seeds")
    g.add_argument("--schedule", choices=GENERATION_CHOICES["sigma_schedule"],
                   dest="sigma_schedule",
                   help="noise levels: the scheduler's own, or Align Your Steps for SVD "
                   "(use with --steps 10)")
    _add_wan_options(parser)


def _add_wan_options(parser: argparse.ArgumentParser) -> None:
    """The wan-animate preset's settings (families/wan: its generator and load options)."""
    from animator.families.wan import LOAD_OPTIONS, settings_for

    wan = {s.name: s for s in (*settings_for(_wan_preset()), *LOAD_OPTIONS)}
    g = parser.add_argument_group("wan-animate (with --preset wan-animate)")
    g.add_argument("--mode", choices=wan["mode"].choices, help=wan["mode"].help)
    g.add_argument("--prompt", help=wan["prompt"].help)
    g.add_argument("--negative-prompt", help=wan["negative_prompt"].help)
    g.add_argument("--resolution", choices=wan["resolution"].choices,
                   help=wan["resolution"].help + " (default: 720p)")
    g.add_argument("--segment-length", type=int, dest="segment_frame_length",
                   help=wan["segment_frame_length"].help)
    g.add_argument("--carry-frames", type=int, dest="prev_segment_conditioning_frames",
                   choices=wan["prev_segment_conditioning_frames"].choices,
                   help=wan["prev_segment_conditioning_frames"].help + " (default: 1)")
    g.add_argument("--guidance", type=float, dest="guidance_scale",
                   help=wan["guidance_scale"].help)
    g.add_argument("--mask-source", choices=wan["mask_source"].choices,
                   help=wan["mask_source"].help)
    g.add_argument("--memory", choices=wan["memory"].choices, help=wan["memory"].help)
    g.add_argument("--fp8", action="store_true", default=None, help=wan["fp8"].help)
    g.add_argument("--fast", action="store_true", default=None, help=wan["fast"].help)


def _wan_preset():
    from animator.families.wan import get_preset

    return get_preset("wan-animate")


GENERATION_ARGS = ("width", "height", "seed", "num_inference_steps", "min_guidance_scale",
                   "max_guidance_scale", "window", "overlap", "pose_strength",
                   "identity_strength", "decode_chunk_size", "cfg_mode", "continuation",
                   "window_noise", "generator_device", "sigma_schedule")
# The Wan family's settings among the flags (the rest of its settings share the names above:
# width, height, seed, num_inference_steps).
WAN_GENERATION_ARGS = ("mode", "prompt", "negative_prompt", "resolution",
                       "segment_frame_length", "prev_segment_conditioning_frames",
                       "guidance_scale", "mask_source")
LOAD_ARGS = ("memory", "fp8", "fast")  # family load options (the Wan ones)


def generation_of(args) -> dict:
    """The generation settings the flags set (None: the preset's own)."""
    return {k: getattr(args, k) for k in (*GENERATION_ARGS, *WAN_GENERATION_ARGS)}


def make_animator(args):
    """An Animator for the CLI's flags (the default preset depends on the device)."""
    from animator.animate import Animator

    animator = Animator(device=args.device, low_memory=args.low_memory,
                        pose_backend=args.pose_backend, weights_dir=args.weights_dir,
                        # a command without these flags (evaluate) loads with the defaults
                        load_options={k: getattr(args, k, None) for k in LOAD_ARGS})
    animator.use_preset(args.preset or ("tiny" if animator.device == "cpu" else "stableanimator"))
    return animator


class _Bar:
    """A tqdm bar driven by the Animator's (fraction, stage) progress reports."""

    def __init__(self):
        from tqdm import tqdm

        self.bar = tqdm(total=1000, unit="", bar_format="{l_bar}{bar}| {elapsed}<{remaining}")

    def __call__(self, fraction: float, desc: str) -> None:
        self.bar.set_description_str(desc[:60], refresh=False)
        self.bar.update(max(0, int(fraction * 1000) - self.bar.n))

    def close(self) -> None:
        self.bar.close()


def cmd_people(args) -> None:
    import cv2

    from animator.animate import Animator

    if args.out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise InputError(f"--out {args.out.name!r}: give a .png or .jpg file name")
    animator = Animator(pose_backend=args.pose_backend, weights_dir=args.weights_dir)
    found = animator.find_people(args.input, start=args.start)
    if not cv2.imwrite(str(args.out), cv2.cvtColor(found.image, cv2.COLOR_RGB2BGR)):
        raise InputError(f"could not write {args.out}; check that its folder exists")
    where = f"frame {found.frame}" if found.frame else "the first frame"
    print(f"{len(found.boxes)} people in {where}, largest first:")
    for i, (x0, y0, x1, y1) in enumerate(found.boxes):
        print(f"  person {i}: box {x0:.0f},{y0:.0f} - {x1:.0f},{y1:.0f}")
    print(args.out)


def cmd_animate(args) -> None:
    from animator.families import check_settings

    _check_outputs(args)
    generation = generation_of(args)
    animator = make_animator(args)
    check_settings(animator.preset, generation, animator.device)
    bar = _Bar()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = animator.animate(
                args.image, args.motion or args.video, generation=generation,
                retarget_config=_retarget_config(args), fps=args.fps, start=args.start,
                end=args.end, out_dir=tmp, comparison=args.comparison is not None, progress=bar,
                person=args.person, driving_person=args.driving_person,
            )
            shutil.move(result.video, args.out)
            if args.comparison:
                shutil.move(result.comparison, args.comparison)
            if args.json:
                PoseSequence.load(result.poses_file).save(args.json)
    finally:
        bar.close()
    for line in result.notices:
        print(f"note: {line}", file=sys.stderr)
    print(f"seed: {result.seed}", file=sys.stderr)
    print(args.out)


def cmd_batch(args) -> None:
    from animator.batch import run_batch

    summary = run_batch(args.jobs, args.out_dir, lambda: make_animator(args))
    if summary is not None:  # the main process reports for all
        print(json.dumps({k: summary[k] for k in ("done", "failed", "seconds")}))
        if summary["failed"]:
            raise InputError(f"{summary['failed']} of {summary['jobs']} jobs failed; see "
                             f"{Path(args.out_dir) / 'summary.json'}.")


def cmd_evaluate(args) -> None:
    from animator.animate import Animator
    from animator.evaluate.config import EvaluateConfig
    from animator.evaluate.runs import collect_runs, evaluate_runs, run_jobs

    if bool(args.clips) == bool(args.jobs):
        raise InputError("Give the clips (or folders of runs) to evaluate, or --jobs FILE, "
                         "not both.")
    config = EvaluateConfig(
        pose_backend=args.pose_backend, weights_dir=args.weights_dir,
        face_model_dir=args.face_model_dir, identity=not args.no_identity,
        identity_stride=args.identity_stride, protocol=args.protocol, lpips=args.lpips,
        fid=args.fid, fid_vid=args.fid_vid, fvd=args.fvd)
    if args.jobs:
        def animator_for(preset):
            return make_animator(argparse.Namespace(**{**vars(args), "preset": preset
                                                       or args.preset}))

        runs = run_jobs(args.jobs, args.out_dir, animator_for)
        if runs is None:  # not the main process of `accelerate launch`
            return
    else:
        driving = str(args.driving) if args.driving else args.motion
        runs = collect_runs(args.clips, image=args.image, poses=args.poses, driving=driving)
        for run in runs:
            run.fps, run.start, run.end = args.fps, args.start, args.end
            run.retarget = vars(_retarget_config(args)) if run.driving else {}
    animator = Animator(device="cpu", pose_backend=args.pose_backend,
                        weights_dir=args.weights_dir)
    evaluations, files = evaluate_runs(
        runs, args.out_dir, animator=animator, config=config, ground_truth=args.ground_truth,
        html=args.html, progress=lambda line: print(line, file=sys.stderr))
    for line in animator.detector_notices:
        print(f"note: {line}", file=sys.stderr)
    from animator.evaluate.protocols import get_protocol

    print(f"protocol: {get_protocol(args.protocol).title}")
    for evaluation in evaluations:
        row = evaluation.row()
        shown = {k: row.get(k) for k in ("pose_error", "pck_0_1", "lost_frames", "flicker",
                                         "csim", "l1", "psnr", "psnr_star", "ssim", "lpips",
                                         "fid", "fid_vid", "fvd", "build_shift",
                                         "duration_error")
                 if row.get(k) is not None}
        print(f"{evaluation.clip}: " + ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()))
    for path in files.values():
        print(path)


def cmd_download(args) -> None:
    from animator.families import family_of
    from animator.families.svd import get_preset
    from animator.families.svd.weights import download_preset

    wan = family_of(args.preset) == "wan"
    if args.fast and not wan:
        raise InputError(f"--fast fetches wan-animate's 4-step LoRA; the {args.preset} preset "
                         "has none. Drop --fast, or use --preset wan-animate --fast.")
    if not wan:
        print(get_preset(args.preset).license, file=sys.stderr)
    bars = []  # made on the first report, so that an early error prints no empty bar

    def progress(fraction: float, desc: str) -> None:
        bars[:] = bars or [_Bar()]
        bars[0](fraction, desc)

    try:
        if wan:
            from animator.families import wan as wan_family

            folders = wan_family.download(args.preset, weights_dir=args.weights_dir,
                                          fast=args.fast, progress=progress,
                                          notify=lambda line: print(line, file=sys.stderr))
        else:
            folders = download_preset(args.preset, weights_dir=args.weights_dir,
                                      progress=progress)
    finally:
        for bar in bars:
            bar.close()
    for folder in folders:
        print(folder)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m animator",
                                     description="Pose-driven human image animation.")
    sub = parser.add_subparsers(dest="command", required=True)

    pose = sub.add_parser("pose", help="extract + retarget poses; write a preview video",
                          description="Detect the portrait's and the driving motion's poses, "
                          "rescale the driving skeleton to the portrait's body and write a "
                          "side-by-side preview (driving | retargeted over the portrait).")
    pose.add_argument("--image", type=Path, required=True, help="portrait image")
    _add_driving_options(pose)
    pose.add_argument("--out", type=Path, default=Path("preview.mp4"), help="preview video")
    pose.add_argument("--json", type=Path, default=None,
                      help="also save the retargeted poses (.json or .npz)")
    _add_retarget_options(pose)
    pose.set_defaults(func=cmd_pose)

    people = sub.add_parser("people", help="number the people in a portrait or video",
                            description="Find the people in a portrait, or in the first frame "
                            "of a driving video that shows anybody, and write that image with "
                            "numbered boxes: the numbers --person / --driving-person take.")
    people.add_argument("input", type=Path, help="portrait image or driving video")
    people.add_argument("--out", type=Path, default=Path("people.png"), help="numbered image")
    people.add_argument("--start", type=float, default=0.0, help="video start time in seconds")
    people.add_argument("--pose-backend", default="auto",
                        choices=["auto", "dwpose", "mediapipe"])
    people.add_argument("--weights-dir", type=Path, default=None)
    people.set_defaults(func=cmd_people)

    animate = sub.add_parser("animate", help="animate a portrait with a driving motion",
                             description="The whole flow: poses, retargeting, generation, "
                             "H.264 video with the driving audio.")
    animate.add_argument("--image", type=Path, required=True, help="portrait image")
    _add_driving_options(animate)
    animate.add_argument("--out", type=Path, default=Path("animation.mp4"), help="output video")
    animate.add_argument("--comparison", type=Path, default=None,
                         help="also write driving | skeleton | result side by side")
    animate.add_argument("--json", type=Path, default=None,
                         help="also save the retargeted poses (.json or .npz)")
    _add_generation_options(animate)
    _add_retarget_options(animate)
    animate.set_defaults(func=cmd_animate)

    batch = sub.add_parser(
        "batch", help="run many animate jobs (split across processes by accelerate)",
        description="Run the jobs of a JSON-lines file, one object per line: {\"image\": ..., "
        "\"video\" or \"motion\": ..., \"out\": optional, any generation setting}. Under "
        "`accelerate launch --num_processes N -m animator batch ...` each process renders its "
        "share; a summary.json gathers them.")
    batch.add_argument("jobs", type=Path, help="jobs file (.jsonl)")
    batch.add_argument("--out-dir", type=Path, default=Path("batch_out"))
    batch.add_argument("--pose-backend", default="auto", choices=["auto", "dwpose", "mediapipe"])
    batch.add_argument("--weights-dir", type=Path, default=None)
    _add_generation_options(batch)
    batch.set_defaults(func=cmd_batch)

    evaluate = sub.add_parser(
        "evaluate", help="measure generated clips: pose accuracy, identity, flicker, ...",
        description="Measure clips against what they were asked to show: pose accuracy "
        "(poses detected again on the frames vs the target poses), identity (ArcFace CSIM, "
        "when a face model is on the machine), flicker and keypoint jitter, L1/PSNR/SSIM "
        "(and LPIPS, FID, FID-VID, FVD) against a ground-truth video, the build of the person "
        "(bone ratios vs the portrait's and the driver's), duration and audio sync. Writes "
        "metrics.csv, metrics.json and report.md (with thumbnails and plots) to --out-dir. "
        "--protocol disco scores the ground truth as DisCo's evaluation code does, to set "
        "a number beside the papers' TikTok tables.")
    evaluate.add_argument("clips", type=Path, nargs="*",
                          help="generated clips, or folders of runs (a batch output folder "
                          "brings each job's inputs)")
    evaluate.add_argument("--jobs", type=Path, default=None,
                          help="a batch jobs file (.jsonl, may name a \"preset\" per job): "
                          "render it, then evaluate every job")
    evaluate.add_argument("--image", type=Path, default=None, help="the portrait")
    target = evaluate.add_mutually_exclusive_group()
    target.add_argument("--poses", type=Path, default=None,
                        help="the run's target poses (what `animate --json` wrote); "
                        "default: NAME.json beside NAME.mp4")
    target.add_argument("--driving", type=Path, default=None,
                        help="the driving video (or pose file): derive the target poses again")
    target.add_argument("--motion", default=None, help="the built-in motion the run used")
    evaluate.add_argument("--ground-truth", type=Path, default=None,
                          help="ground-truth video (self-driven reconstruction), or a folder "
                          "with one per clip named like it: L1, PSNR, SSIM; with --driving "
                          "the run's lead-in frames are skipped, else frame i is compared "
                          "with frame i")
    evaluate.add_argument("--protocol", default="standard", choices=["standard", "disco"],
                          help="how the ground-truth scores are computed: standard "
                          "(reference definitions) or disco (DisCo's code, as the papers' "
                          "TikTok tables); default %(default)s")
    evaluate.add_argument("--out-dir", type=Path, default=Path("evaluation"))
    evaluate.add_argument("--html", action="store_true", help="report.html instead of .md")
    evaluate.add_argument("--fps", type=float, default=None,
                          help="with --driving/--motion: the run's --fps (default: the clip's)")
    evaluate.add_argument("--start", type=float, default=0.0, help="with --driving: the run's")
    evaluate.add_argument("--end", type=float, default=None, help="with --driving: the run's")
    evaluate.add_argument("--pose-backend", default="auto",
                          choices=["auto", "dwpose", "mediapipe"])
    evaluate.add_argument("--weights-dir", type=Path, default=None,
                          help="folder with local model files (DWPose, face models, lpips/, "
                          "fid/, fvd/)")
    evaluate.add_argument("--face-model-dir", type=Path, default=None,
                          help="insightface model folder for CSIM (default: searched)")
    evaluate.add_argument("--no-identity", action="store_true", help="skip CSIM")
    evaluate.add_argument("--identity-stride", type=int, default=1,
                          help="score the face in every n-th frame (%(default)s)")
    evaluate.add_argument("--lpips", action="store_true",
                          help="also LPIPS vs the ground truth (weights in --weights-dir/lpips)")
    evaluate.add_argument("--fid", action="store_true",
                          help="also FID vs the ground truth (weights in --weights-dir/fid)")
    evaluate.add_argument("--fid-vid", action="store_true",
                          help="also FID-VID vs the ground truth (3D ResNet-50 weights in "
                          "--weights-dir/fvd)")
    evaluate.add_argument("--fvd", action="store_true",
                          help="also FVD vs the ground truth (I3D weights in "
                          "--weights-dir/fvd; which file depends on --protocol)")
    jobs = evaluate.add_argument_group("with --jobs (as `batch`)")
    jobs.add_argument("--preset", default=None,
                      help="preset of jobs that name none (default: stableanimator with a "
                      "GPU, tiny without)")
    jobs.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    jobs.add_argument("--low-memory", action="store_true")
    _add_retarget_options(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    # `train` has its own parser (families/svd/train.py); main() hands it the rest of the line.
    sub.add_parser("train", help="train the controllers: `train --help` for its options")

    download = sub.add_parser(
        "download", help="fetch the model files of a preset",
        description="Download everything a preset needs (SVD parts, its checkpoints, DWPose, "
        "face models) into the Hugging Face cache, or as plain files into --weights-dir; "
        "prints the folders that hold them.")
    download.add_argument("--preset", default="stableanimator",
                          help="stableanimator, mimicmotion, tiny or wan-animate (%(default)s)")
    download.add_argument("--weights-dir", type=Path, default=None,
                          help="put the files here instead of the cache")
    download.add_argument("--fast", action="store_true",
                          help="wan-animate: also fetch the 4-step distillation LoRA")
    download.set_defaults(func=cmd_download)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["train"]:
        from animator.families.svd.train import main as train_main

        return train_main(argv[1:])
    if "--list-motions" in argv:
        from animator.pose.motions import MOTIONS

        for name, description in MOTIONS.items():
            print(f"{name:12s} {description}")
        return 0
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (InputError, Cancelled) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
