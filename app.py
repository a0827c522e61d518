"""The Gradio app: portrait + driving video (or a built-in motion) -> animated clip.

UI only: every step runs in `animator.Animator`. `demo` is built at import so that
Hugging Face Spaces and `gradio app.py` find it; `python app.py` launches it. Settings
come from flags (`python app.py --help`) or, on Spaces, from ANIMATOR_* variables.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import functools
import json
import logging
import os
import secrets
import threading

import spaces  # ZeroGPU needs it imported before torch

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from animator import families  # noqa: E402
from animator.animate import Animator  # noqa: E402
from animator.config import InputLimits, RetargetConfig  # noqa: E402
from animator.errors import Cancelled, InputError  # noqa: E402
from animator.estimate import describe_seconds  # noqa: E402
from animator.families.svd import get_preset  # noqa: E402
from animator.families.svd.config import GENERATION_CHOICES  # noqa: E402
from animator.pose.motions import MOTIONS  # noqa: E402

log = logging.getLogger("animator.app")
NO_MOTION = "none"
AUTO_SIZE = "auto (from the portrait)"
SIZES = [AUTO_SIZE, "576x1024", "1024x576", "512x512", "768x768", "320x576", "256x256"]
EXAMPLES = [["assets/portraits/astronaut.jpg", "assets/driving/astronaut_sway.mp4", NO_MOTION],
            ["assets/portraits/astronaut.jpg", None, "wave"]]
MULTIPLIER_GROUPS = ("head", "arms", "legs", "hands")
GPU_SECONDS = 300  # ZeroGPU time slot asked for one generation
WAN = "wan-animate"
# Controls only the SVD presets use, and only the Wan family uses (shown per preset).
SVD_ONLY = ("min_guidance", "max_guidance", "window", "overlap", "pose_strength",
            "identity_strength", "decode_chunk", "cfg_mode", "schedule", "window_noise",
            "generator_device")
WAN_ONLY = ("prompt", "mode", "area", "segment_length", "carry_frames", "guidance",
            "mask_source", "memory", "fp8", "fast")
STOPPED = "**Stopped.** The generation was cancelled; its files were removed."


def _user_errors(fn):
    """Turn failures into messages the page (and gradio_client) shows; keep serving. A user's
    mistake is one log line; only real failures log a traceback."""

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (InputError, Cancelled) as e:
            log.info("%s: %s", fn.__name__, e)
            raise gr.Error(str(e), print_exception=False) from None
        except gr.Error:
            raise
        except Exception as e:
            log.exception("unexpected failure in %s", fn.__name__)
            raise gr.Error(
                f"Something went wrong on our side ({type(e).__name__}: {e}). The server is "
                "still running: try again, and report the problem if it repeats.",
                print_exception=False,
            ) from None

    return wrapped


def _notes(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in dict.fromkeys(lines)) if lines else ""


def _retarget_config(settings: dict) -> RetargetConfig:
    chosen = {g: float(settings[g]) for g in MULTIPLIER_GROUPS if float(settings[g]) != 1.0}
    return RetargetConfig(
        transition=float(settings["transition"]), smoothing=int(settings["smoothing"]),
        root_motion=float(settings["root_motion"]), ground=bool(settings["ground"]),
        start_at_closest=bool(settings["start_at_closest"]), multipliers=chosen)


def _driving(video, settings: dict) -> tuple[str, list[str]]:
    """What drives the motion, and a note when both a video and a motion were given."""
    motion = settings.get("motion") or NO_MOTION
    if motion != NO_MOTION:
        if video:
            return motion, [f"Both a driving video and the built-in motion '{motion}' were "
                            f"given: animated '{motion}'. Set the motion to {NO_MOTION} to "
                            "use the video."]
        return motion, []
    if not video:
        raise InputError("Upload a driving video or pick a built-in motion.")
    return video, []


def _span(settings: dict) -> dict:
    start, end = float(settings.get("start") or 0), float(settings.get("end") or 0)
    return {"start": start, "end": end or None}


def _people(settings: dict) -> dict:
    """Which person of the portrait and of the driving video (numbers as shown boxed)."""
    chosen = {}
    for key, name in (("person", "person"), ("driving_person", "driving_person")):
        value = settings.get(key) or 0
        if float(value) != int(value):
            raise InputError(f"{name} must be a whole number (0 = the largest), got {value}.")
        chosen[key] = int(value)
    return chosen


def _is_wan(preset_name: str) -> bool:
    return families.family_of(preset_name) == "wan"


def _cpu_estimate(preset_name: str) -> tuple[str, str]:
    """(the real preset the estimate is for, the clip it is for and how long it would take
    on this CPU), for either family."""
    if _is_wan(preset_name):
        from animator.families.wan import get_preset as wan_preset

        fps = wan_preset(preset_name).defaults.fps
        seconds = families.estimate_cpu_seconds(preset_name, int(4 * fps), 1280, 720)
        return preset_name, f"a 4-second clip at {fps:g} fps (1280x720) would take " \
                            f"{describe_seconds(seconds)}"
    preset = get_preset(preset_name)
    real = preset if preset.base is not None else get_preset("stableanimator")
    seconds = families.estimate_cpu_seconds(real.name, int(4 * 15), real.defaults.width,
                                            real.defaults.height)
    return real.name, f"a 4-second clip at 15 fps would take {describe_seconds(seconds)}"


def wan_fits(device: str) -> str | None:
    """The lightest memory mode in which wan-animate's weights fit this GPU (with room for
    the activations), or None (no GPU, or too small)."""
    if not device.startswith("cuda"):
        return None
    import torch

    from animator.families.wan import cost

    total = torch.cuda.get_device_properties(torch.device(device)).total_memory
    for mode, fp8 in (("none", False), ("none", True), ("model", False), ("model", True),
                      ("group", False), ("group", True)):
        if 1.25 * cost.weight_memory(mode, fp8) < total:
            return f"memory mode {mode}" + (" with fp8" if fp8 else "")
    return None


def device_notice(animator: Animator, preset_name: str) -> str:
    """What the page says about speed before anyone presses Generate."""
    no_gpu = animator.device == "cpu"
    if no_gpu:
        real, estimate = _cpu_estimate(preset_name)
        cpu = (f"**No GPU here.** Generation with the real `{real}` weights needs a GPU: "
               f"on this machine's CPU {estimate}. Pose preview works fully on the CPU.")
    if preset_name == "tiny":
        tiny = ("The `tiny` preset runs a miniature model with random weights in seconds on "
                "any CPU. Its output is noise: it checks the whole path, not the look.")
        return f"{cpu} {tiny}" if no_gpu else (
            f"**Smoke-test preset:** {tiny} Pick a real preset for real animations.")
    if no_gpu:
        return f"{cpu} Pick the `tiny` preset for a quick smoke test of the whole path."
    if _is_wan(preset_name):
        from animator.families.wan import get_preset as wan_preset

        description = wan_preset(preset_name).description
    else:
        description = get_preset(preset_name).description
    running = f"Running `{preset_name}` on `{animator.device}`. {description}"
    fits = None if _is_wan(preset_name) else wan_fits(animator.device)
    if fits:
        running += (f" This GPU is big enough for `{WAN}` (Wan2.2-Animate-14B, {fits}): "
                    "pick it under Preset.")
    return running


def _size(resolution: str) -> dict:
    if not resolution or resolution == AUTO_SIZE:
        return {}
    try:
        width, height = (int(v) for v in resolution.lower().split("x"))
    except ValueError as e:
        raise InputError(f"Resolution must look like 576x1024 (width x height), got "
                         f"{resolution!r}.") from e
    return {"width": width, "height": height}


def _portrait(portrait) -> str:
    """The uploaded portrait's path; the file is read by `animator` itself (never converted
    by the widget, which turns 16-bit PNGs white and hides our messages)."""
    if not portrait:
        raise InputError("Upload a portrait first (a photo of one person).")
    return portrait


def build_demo(animator: Animator) -> gr.Blocks:
    """The page; every handler delegates to `animator`."""
    page_name = animator.preset  # the page opens with this preset's controls
    page_wan = _is_wan(page_name)
    # the SVD controls start at the page's SVD preset's values (stableanimator's for Wan)
    page_preset = get_preset("stableanimator" if page_wan else animator.preset)
    presets = list(dict.fromkeys([*families.preset_names(), animator.preset]))  # + local:

    @_user_errors
    def extract_pose(portrait, video=None, progress=gr.Progress(track_tqdm=True), **settings):
        """Detect poses in the portrait and the driving video (or built-in motion), rescale the
        driving skeleton to the portrait's body, and return a side-by-side preview video, the
        first retargeted frame over the portrait, the retargeted poses as JSON, and notes."""
        driving, notes = _driving(video, settings)
        result = animator.preview_pose(
            _portrait(portrait), driving, retarget_config=_retarget_config(settings),
            progress=lambda f, desc: progress(f, desc=desc), **_span(settings),
            **_people(settings))
        notes += result.notices
        ratio = ", ".join(f"{k} x{v:.2f}" for k, v in result.retargeted.ratios.items())
        notes.append(f"Body scale x{result.retargeted.scale:.2f}; proportions: {ratio}.")
        return str(result.video), result.first_frame, str(result.poses_file), _notes(notes)

    def people_in(source, what: str, **span):
        """The upload as the app reads it, people boxed and numbered, and a selector over
        those numbers (0 = the largest)."""
        if not source:
            return None, gr.update(value=0, maximum=None)
        found = animator.find_people(source, **span)
        count = len(found.boxes)
        label = (f"Person in the {what} (0 = the largest; {count} found)" if count
                 else f"Person in the {what} (nobody found)")
        return found.image, gr.update(value=0, minimum=0, maximum=max(count - 1, 0),
                                      label=label)

    @_user_errors
    def show_portrait(portrait):
        return people_in(portrait, "portrait")

    @_user_errors
    def show_driving(video, start):
        return people_in(video, "driving video", start=float(start or 0))

    @spaces.GPU(duration=GPU_SECONDS)
    def _generate(portrait, driving, options: dict, progress, cancel):
        return animator.animate(portrait, driving, progress=progress, cancel=cancel, **options)

    @_user_errors
    def _animate(portrait, video, settings: dict, progress, cancel):
        portrait = _portrait(portrait)
        driving, notes = _driving(video, settings)
        preset = settings["preset"]
        animator.use_preset(preset)
        animator.set_low_memory(bool(settings["low_memory"]))
        wan = _is_wan(preset)
        if wan:
            animator.set_load_options(memory=settings["memory"], fp8=bool(settings["fp8"]),
                                      fast=bool(settings["fast"]))
            preset_tuned = {"num_inference_steps": int(settings["steps"]),
                            "output_fps": float(settings["fps"])}
        else:
            animator.set_load_options()
            preset_tuned = {
                "num_inference_steps": int(settings["steps"]),
                "min_guidance_scale": float(settings["min_guidance"]),
                "max_guidance_scale": float(settings["max_guidance"]),
                "window": int(settings["window"]), "overlap": int(settings["overlap"]),
                "decode_chunk_size": int(settings["decode_chunk"]),
                "window_noise": settings["window_noise"],
                "generator_device": settings["generator_device"],
            }
        if preset != page_name:
            # An API call that names another preset but leaves these at the page's values
            # gets that preset's own defaults (on the page, choosing a preset sets them).
            preset_tuned = {k: v for k, v in preset_tuned.items() if v != page_values[k]}
        if wan and settings["fast"] and preset_tuned.get("num_inference_steps") == \
                wan_steps(preset, False):
            del preset_tuned["num_inference_steps"]  # left at the model's: the LoRA's own
        fps = preset_tuned.pop("output_fps", float(settings["fps"]) if not wan else None)
        # a new seed per run when asked (None would mean the preset's own, a fixed one)
        seed = secrets.randbelow(2**31) if settings["randomize_seed"] else int(settings["seed"])
        if wan:
            generation = {
                **_size(settings["resolution"]), **preset_tuned, "seed": seed,
                "prompt": settings["prompt"] or "", "mode": settings["mode"],
                "resolution": settings["area"],
                "segment_frame_length": int(settings["segment_length"]),
                "prev_segment_conditioning_frames": int(settings["carry_frames"]),
                "guidance_scale": float(settings["guidance"]),
                "mask_source": settings["mask_source"],
            }
        else:
            generation = {
                **_size(settings["resolution"]), **preset_tuned,
                "pose_strength": float(settings["pose_strength"]),
                "identity_strength": float(settings["identity_strength"]),
                "cfg_mode": settings["cfg_mode"], "sigma_schedule": settings["schedule"],
                "seed": seed,
            }
        options = dict(generation=generation, fps=fps,
                       retarget_config=_retarget_config(settings), **_span(settings),
                       **_people(settings))
        result = _generate(portrait, driving, options,
                           lambda f, desc: progress(f, desc=desc), cancel)
        return (str(result.video), str(result.comparison), str(result.seed),
                json.dumps(result.settings, indent=1), str(result.poses_file),
                _notes(notes + result.notices))

    running: dict[str, set[threading.Event]] = {}  # session -> cancel flags of its jobs

    async def animate(portrait, video=None, progress=gr.Progress(track_tqdm=True),
                      request: gr.Request = None, **settings):
        """Animate the portrait with the driving motion. Returns the animated clip (with the
        driving audio), a side-by-side clip (driving | skeleton | result), the seed used, the
        settings used (JSON), the retargeted poses (JSON file) and notes."""
        # The generator runs in a worker thread. When the job is cancelled (Stop button, a
        # client's job.cancel()) this task is; when the client goes away, `unload` below
        # fires. Either sets the flag, which stops the thread at its next denoising step
        # instead of letting it run on unseen.
        cancel = threading.Event()
        session = running.setdefault(getattr(request, "session_hash", None) or "", set())
        session.add(cancel)
        work = functools.partial(_animate, portrait, video, settings, progress, cancel)
        context = contextvars.copy_context()
        try:
            return await asyncio.get_running_loop().run_in_executor(None, context.run, work)
        except asyncio.CancelledError:
            cancel.set()
            raise
        finally:
            session.discard(cancel)

    def client_left(request: gr.Request):
        """The page was closed or the API client went away: stop its jobs."""
        for cancel in running.pop(request.session_hash, ()):
            cancel.set()

    def preset_defaults(preset_name):
        """Controls follow the chosen preset: its family's controls shown, its defaults."""
        wan = _is_wan(preset_name)
        d = get_preset("stableanimator" if wan else preset_name).defaults
        svd = {"min_guidance": d.min_guidance_scale, "max_guidance": d.max_guidance_scale,
               "window": d.window, "overlap": d.overlap, "decode_chunk": d.decode_chunk_size,
               "window_noise": d.window_noise, "generator_device": d.generator_device}
        updates = [gr.update(value=wan_steps(preset_name, False) if wan
                             else d.num_inference_steps),
                   gr.update(value=30 if wan else 15)]
        updates += [gr.update(visible=not wan, **({"value": svd[name]} if name in svd else {}))
                    for name in SVD_ONLY]
        updates += [gr.update(visible=wan, **({"value": False} if name == "fast" else {}))
                    for name in WAN_ONLY]
        return (*updates, device_notice(animator, preset_name))

    def wan_steps(preset_name, fast):
        from animator.families.wan import get_preset as wan_preset

        w = wan_preset(preset_name)
        return (w.fast if fast else w.defaults).num_inference_steps

    def fast_steps(preset_name, fast, steps):
        """The fast LoRA's own steps when it is ticked, the model's when it is not."""
        return wan_steps(preset_name, bool(fast)) if _is_wan(preset_name) else steps

    def preview_example(portrait, video, motion, progress=gr.Progress(track_tqdm=True)):
        return extract_pose(portrait, video, progress=progress,
                            **{**pose_defaults, "motion": motion})

    defaults = RetargetConfig()
    gen = page_preset.defaults
    wan_settings = {s.name: s for s in (*families.settings_of(WAN),
                                        *families.load_options_of(WAN))}
    with gr.Blocks(title="Animator: pose-driven image animation",
                   delete_cache=(1800, 3600)) as demo:
        gr.Markdown(
            "# Animator\nUpload a portrait and a driving video (or pick a built-in motion). "
            "**Preview pose** shows the driving skeleton rescaled to the portrait's body; "
            "**Generate** animates the portrait with it, keeping the video's audio."
        )
        notice = gr.Markdown(device_notice(animator, animator.preset), elem_id="device_notice")
        # Each button sits right above its results, so that on a phone (one column) the
        # progress and the result appear where the user just tapped.
        with gr.Row():
            with gr.Column(scale=1):
                portrait = gr.File(label="Portrait (a photo of one person)", type="filepath",
                                   elem_id="portrait")
                portrait_view = gr.Image(label="Portrait as read, people numbered",
                                         interactive=False, height=240,
                                         elem_id="portrait_view")
                person = gr.Number(0, label="Person in the portrait (0 = the largest)",
                                   precision=0, minimum=0, elem_id="person")
                video = gr.Video(label="Driving video", sources=["upload"], elem_id="driving")
                driving_view = gr.Image(label="People in the driving video (first frame "
                                        "with people)", interactive=False, height=240,
                                        elem_id="driving_view")
                driving_person = gr.Number(
                    0, label="Person in the driving video (0 = the largest)", precision=0,
                    minimum=0, elem_id="driving_person")
                motion = gr.Dropdown([NO_MOTION, *MOTIONS], value=NO_MOTION,
                                     label="Or a built-in motion", elem_id="motion")
                with gr.Row():
                    start = gr.Number(0, label="Start (s)", minimum=0)
                    end = gr.Number(0, label="End (s, 0 = to the end)", minimum=0)
            with gr.Column(scale=1):
                with gr.Accordion("1. Pose: retargeting", open=False, elem_id="pose_panel"):
                    transition = gr.Slider(0, 2, defaults.transition, step=0.1,
                                           label="Lead-in from the portrait's pose (s)")
                    smoothing = gr.Slider(0, 21, defaults.smoothing, step=2,
                                          label="Smoothing window (frames, 0 = off)")
                    root_motion = gr.Slider(0, 1, defaults.root_motion, step=0.05,
                                            label="Travel kept from the driver")
                    ground = gr.Checkbox(defaults.ground, label="Keep feet on the ground line")
                    start_at_closest = gr.Checkbox(
                        defaults.start_at_closest,
                        label="Start at the driving frame closest to the portrait's pose")
                    groups = {g: gr.Slider(0.7, 1.3, 1.0, step=0.05, label=f"{g.title()} length x")
                              for g in MULTIPLIER_GROUPS}
                preview_btn = gr.Button("Preview pose", elem_id="preview")
                preview = gr.Video(label="Pose preview: driving | retargeted",
                                   elem_id="preview_video")
                first = gr.Image(label="First retargeted frame over the portrait")
                pose_file = gr.File(label="Retargeted poses (JSON)")
                pose_notes = gr.Markdown(label="Notes", elem_id="pose_notes")
        with gr.Row():
            with gr.Column(scale=1):
                with gr.Accordion("2. Generate: settings", open=True, elem_id="generate_panel"):
                    preset = gr.Dropdown(presets, value=animator.preset, label="Preset",
                                         elem_id="preset")
                    resolution = gr.Dropdown(SIZES, value=AUTO_SIZE, label="Resolution (WxH)",
                                             allow_custom_value=True)
                    fps = gr.Slider(5, 30, 30 if page_wan else 15, step=1,
                                    label="Output frames per second")
                    with gr.Row():
                        seed = gr.Number(gen.seed if gen.seed is not None else 42, label="Seed",
                                         precision=0)
                        randomize_seed = gr.Checkbox(False, label="Randomize seed")
                    steps = gr.Slider(1, 50, wan_steps(animator.preset, False) if page_wan
                                      else gen.num_inference_steps, step=1, label="Steps")
                    with gr.Row():
                        min_guidance = gr.Slider(1, 10, gen.min_guidance_scale, step=0.1,
                                                 label="Guidance (first frame)")
                        max_guidance = gr.Slider(1, 10, gen.max_guidance_scale, step=0.1,
                                                 label="Guidance (last frame)")
                    with gr.Accordion("Advanced", open=False):
                        window = gr.Slider(2, 72, gen.window, step=1,
                                           label="Window (frames denoised together)")
                        overlap = gr.Slider(0, 16, gen.overlap, step=1,
                                            label="Window overlap (frames)")
                        pose_strength = gr.Slider(0, 2, gen.pose_strength, step=0.05,
                                                  label="Pose strength")
                        identity_strength = gr.Slider(0, 2, gen.identity_strength, step=0.05,
                                                      label="Identity strength")
                        decode_chunk = gr.Slider(1, 16, gen.decode_chunk_size, step=1,
                                                 label="Decode chunk (frames)")
                        cfg_mode = gr.Radio(list(GENERATION_CHOICES["cfg_mode"]),
                                            value=gen.cfg_mode,
                                            label="Guidance mode (sequential = less memory)")
                        schedule = gr.Radio(
                            list(GENERATION_CHOICES["sigma_schedule"]),
                            value=gen.sigma_schedule,
                            label="Noise schedule (ays = Align Your Steps: try 10 steps)")
                        window_noise = gr.Radio(
                            list(GENERATION_CHOICES["window_noise"]), value=gen.window_noise,
                            label="Starting noise (repeat = one window's noise along the "
                            "clip, as the public code)")
                        generator_device = gr.Radio(
                            list(GENERATION_CHOICES["generator_device"]),
                            value=gen.generator_device,
                            label="Seed's noise drawn on (cuda/auto = the public scripts' "
                            "seeds on a GPU)")
                        low_memory = gr.Checkbox(animator.low_memory, label="Low-memory mode")
                    w = wan_settings  # the Wan family's controls (shown for its presets)
                    prompt = gr.Textbox("", label="Prompt (optional)", visible=page_wan,
                                        placeholder="e.g. a person dances on a stage",
                                        elem_id="prompt")
                    mode = gr.Radio(list(w["mode"].choices), value=w["mode"].default,
                                    label="Mode (replace = the portrait's character in the "
                                    "driving footage)", visible=page_wan, elem_id="wan_mode")
                    area = gr.Radio(list(w["resolution"].choices),
                                    value=w["resolution"].default, visible=page_wan,
                                    label="Generation area (with Resolution auto)")
                    segment_length = gr.Slider(5, 121, w["segment_frame_length"].default,
                                               step=4, visible=page_wan,
                                               label="Segment length (frames, 4N+1)",
                                               elem_id="segment_length")
                    carry_frames = gr.Radio(list(w["prev_segment_conditioning_frames"].choices),
                                            value=w["prev_segment_conditioning_frames"].default,
                                            visible=page_wan,
                                            label="Frames carried between segments")
                    guidance = gr.Slider(1, 10, w["guidance_scale"].default, step=0.1,
                                         visible=page_wan, label="Guidance (1 = off)")
                    mask_source = gr.Radio(list(w["mask_source"].choices),
                                           value=w["mask_source"].default, visible=page_wan,
                                           label="Replace mode: person mask from")
                    memory = gr.Radio(list(w["memory"].choices), value=w["memory"].default,
                                      visible=page_wan, label="Memory mode (group = 24 GB cards)")
                    fp8 = gr.Checkbox(False, label="fp8 weights (half the memory)",
                                      visible=page_wan)
                    fast = gr.Checkbox(False, label="Fast: 4-step LoRA", visible=page_wan,
                                       elem_id="fast")
                with gr.Row():
                    generate_btn = gr.Button("Generate", variant="primary", elem_id="generate")
                    stop_btn = gr.Button("Stop", variant="stop", elem_id="stop")
            with gr.Column(scale=1):
                result_video = gr.Video(label="Animation", elem_id="result")
                notes = gr.Markdown(label="Notes", elem_id="notes")
                comparison = gr.Video(label="Driving | skeleton | result")
                with gr.Row():
                    # A Number shows 0 before any run; a text stays empty until there is one.
                    seed_used = gr.Textbox(label="Seed used", interactive=False,
                                           placeholder="set by the first run",
                                           elem_id="seed_used")
                    poses_file = gr.File(label="Retargeted poses (JSON)")
                settings = gr.Code(label="Settings used", language="json")
        pose_outputs = [preview, first, pose_file, pose_notes]
        gr.Examples(EXAMPLES, [portrait, video, motion], pose_outputs,
                    fn=preview_example, cache_examples=True, cache_mode="lazy")

        # API parameters: portrait and video first (positional calls), then every setting
        # by name, each defaulting to the page's value.
        pose_inputs = {"motion": motion, "start": start, "end": end, "person": person,
                       "driving_person": driving_person, "transition": transition,
                       "smoothing": smoothing, "root_motion": root_motion, "ground": ground,
                       "start_at_closest": start_at_closest, **groups}
        pose_defaults = {name: c.value for name, c in pose_inputs.items()}
        generate_inputs = {
            **pose_inputs, "preset": preset, "resolution": resolution, "fps": fps,
            "seed": seed, "randomize_seed": randomize_seed, "steps": steps,
            "min_guidance": min_guidance, "max_guidance": max_guidance, "window": window,
            "overlap": overlap, "pose_strength": pose_strength,
            "identity_strength": identity_strength, "decode_chunk": decode_chunk,
            "cfg_mode": cfg_mode, "schedule": schedule, "window_noise": window_noise,
            "generator_device": generator_device, "low_memory": low_memory,
            "prompt": prompt, "mode": mode, "area": area, "segment_length": segment_length,
            "carry_frames": carry_frames, "guidance": guidance, "mask_source": mask_source,
            "memory": memory, "fp8": fp8, "fast": fast,
        }
        for name in SVD_ONLY:  # a page opened with a Wan preset hides the SVD controls
            generate_inputs[name].visible = not page_wan
        # the API's defaults, to tell a setting left alone from a chosen one
        page_values = {"num_inference_steps": steps.value, "output_fps": fps.value,
                       **{k: getattr(gen, k) for k in (
                           "min_guidance_scale", "max_guidance_scale", "window", "overlap",
                           "decode_chunk_size", "window_noise", "generator_device")}}
        portrait.change(show_portrait, portrait, [portrait_view, person],
                        api_visibility="private")
        video.change(show_driving, [video, start], [driving_view, driving_person],
                     api_visibility="private")
        preview_btn.click(
            extract_pose, [portrait, video], pose_outputs, inputs_kwargs=pose_inputs,
            api_name="extract_pose", concurrency_limit=4, concurrency_id="pose",
        )
        generation = generate_btn.click(
            animate, [portrait, video],
            [result_video, comparison, seed_used, settings, poses_file, notes],
            inputs_kwargs=generate_inputs, api_name="animate", concurrency_limit=1,
            concurrency_id="gpu",
        )
        stop_btn.click(lambda: STOPPED, None, notes, cancels=[generation],
                       api_visibility="private")
        demo.unload(client_left)
        preset.change(preset_defaults, preset,
                      [steps, fps, *(generate_inputs[n] for n in (*SVD_ONLY, *WAN_ONLY)),
                       notice],
                      api_visibility="private")
        fast.change(fast_steps, [preset, fast, steps], steps, api_visibility="private")
    return demo


def launch_kwargs(limits: InputLimits, mcp: bool = False) -> dict:
    """Server settings shared by `python app.py` and the tests."""
    return {"max_file_size": f"{int(limits.max_upload_mb)}mb", "show_error": True,
            "mcp_server": mcp}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="Run the Animator web app.")
    parser.add_argument("--port", type=int, default=None, help="port (default: 7860)")
    parser.add_argument("--host", default=None, help="address to bind, e.g. 0.0.0.0")
    parser.add_argument("--share", action="store_true", help="make a public gradio.live link")
    parser.add_argument("--preset", default=env("ANIMATOR_PRESET"),
                        help="stableanimator, mimicmotion, tiny or local:<dir> (default: "
                        "stableanimator with a GPU, tiny without)")
    parser.add_argument("--device", default=env("ANIMATOR_DEVICE", "auto"),
                        help="auto, cpu, cuda or cuda:N (default: auto)")
    parser.add_argument("--low-memory", action="store_true",
                        default=env("ANIMATOR_LOW_MEMORY") == "1",
                        help="offload idle models to the CPU, guidance in sequence")
    parser.add_argument("--weights-dir", default=env("ANIMATOR_WEIGHTS_DIR"),
                        help="folder with the preset's files (instead of the Hugging Face hub)")
    parser.add_argument("--mcp", action="store_true", default=env("ANIMATOR_MCP") == "1",
                        help="also serve the endpoints as MCP tools for agents "
                        "(at /gradio_api/mcp/)")
    limits = InputLimits()
    parser.add_argument("--max-duration", type=float,
                        default=float(env("ANIMATOR_MAX_DURATION", limits.max_duration)),
                        help="seconds of driving video used; longer ones are cut with a note "
                        "(default: %(default)s)")
    parser.add_argument("--max-upload-mb", type=float,
                        default=float(env("ANIMATOR_MAX_UPLOAD_MB", limits.max_upload_mb)),
                        help="largest upload accepted (default: %(default)s)")
    return parser.parse_args(argv)


def make_animator(args: argparse.Namespace) -> Animator:
    limits = InputLimits(max_duration=args.max_duration, max_upload_mb=args.max_upload_mb)
    animator = Animator(device=args.device, low_memory=args.low_memory,
                        weights_dir=args.weights_dir, limits=limits)
    animator.use_preset(args.preset or ("tiny" if animator.device == "cpu"
                                        else "stableanimator"))
    return animator


animator = make_animator(parse_args([]))
demo = build_demo(animator)
demo.queue(default_concurrency_limit=1)

if __name__ == "__main__":
    args = parse_args()
    logging.basicConfig(level=logging.INFO)
    animator = make_animator(args)
    demo = build_demo(animator)
    demo.queue(default_concurrency_limit=1)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share,
                **launch_kwargs(animator.limits, mcp=args.mcp))
