"""`evaluate`: measure generated clips (or render a jobs file first, as `batch` does)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from animator.cli.options import (
    add_retarget_options,
    default_preset_words,
    make_animator,
    retarget_config,
)
from animator.errors import InputError


def cmd_evaluate(args) -> None:
    from animator.animate import Animator
    from animator.evaluate.config import EvaluateConfig
    from animator.evaluate.runs import collect_runs, evaluate_runs, run_jobs

    if bool(args.clips) == bool(args.jobs):
        raise InputError("Give the clips (or folders of runs) to evaluate, or --jobs FILE, "
                         "not both.")
    config = EvaluateConfig(
        pose_backend=args.pose_backend, weights_dir=args.weights_dir,
        face_model_dir=args.face_model_dir, pose=not args.no_pose, identity=not args.no_identity,
        identity_stride=args.identity_stride, protocol=args.protocol, lpips=args.lpips,
        fid=args.fid, fid_vid=args.fid_vid, fvd=args.fvd)
    if args.jobs:
        def animator_for(preset):
            return make_animator(argparse.Namespace(**{**vars(args), "preset": preset
                                                       or args.preset}))

        runs = run_jobs(args.jobs, args.out_dir, animator_for, overwrite=args.overwrite)
        if runs is None:  # not the main process of `accelerate launch`
            return
    else:
        driving = str(args.driving) if args.driving else args.motion
        runs = collect_runs(args.clips, image=args.image, poses=args.poses, driving=driving)
        for run in runs:
            run.fps, run.start, run.end = args.fps, args.start, args.end
            run.retarget = vars(retarget_config(args)) if run.driving else {}
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


def add_parser(sub) -> None:
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
    evaluate.add_argument("--overwrite", action="store_true",
                          help="with --jobs: replace clips that already exist in --out-dir")
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
    evaluate.add_argument("--no-pose", action="store_true",
                          help="skip pose accuracy (detecting the poses is the slowest measure)")
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
                      help=f"preset of jobs that name none (default: {default_preset_words()})")
    jobs.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    jobs.add_argument("--low-memory", action="store_true")
    add_retarget_options(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)
