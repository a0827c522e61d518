"""The page: its sections laid out, and its two endpoints, `/extract_pose` (pose.py) and
`/animate` (here), wired to them. Every handler delegates to an `Animator`.

The endpoints are served twice: for API clients (gradio_client, MCP), on triggers that
are not shown, raising their messages; and for the page's buttons, which show a refusal
in the notes (`handlers.on_page`), the progress once (on the player the result goes to)
and the buttons' state: Generate off and Stop on (red) only while a job runs."""

from __future__ import annotations

import functools

import gradio as gr
import spaces  # ZeroGPU: imported before torch (app.py imports it first of all)

from animator.ui import inputs as inputs_section
from animator.ui.examples import add_examples
from animator.ui.handlers import Jobs, on_page, user_errors
from animator.ui.inputs import Inputs, PeopleSeen
from animator.ui.notice import device_notice
from animator.ui.pose import Pose, extract_pose_for, retarget_config
from animator.ui.results import Results, shown
from animator.ui.settings import Settings

GPU_SECONDS = 300  # ZeroGPU time slot asked for one generation
STOPPED = "**Stopped.** The generation was cancelled; its files were removed."
INTRO = ("# Animator\nUpload a portrait and a driving video (or pick a built-in motion). "
         "**Preview pose** shows the driving skeleton rescaled to the portrait's body; "
         "**Generate** animates the portrait with it, keeping the video's audio.")


def animate_for(animator, section: Settings, jobs: Jobs, seen: PeopleSeen):
    """The `/animate` endpoint over `animator`, reading its settings through `section`."""

    @spaces.GPU(duration=GPU_SECONDS)
    def _generate(portrait, driving, options: dict, progress, cancel):
        return animator.animate(portrait, driving, progress=progress, cancel=cancel, **options)

    @user_errors
    def _animate(portrait, video, settings: dict, progress, cancel):
        portrait = inputs_section.portrait_path(portrait)
        driving, notes = inputs_section.driving(video, settings)
        seen.refuse_nobody(driving, inputs_section.span(settings))
        animator.use_preset(settings["preset"])
        animator.set_low_memory(bool(settings["low_memory"]))
        request = section.request(settings)
        animator.set_load_options(**request.load_options)
        options = dict(generation=request.generation, fps=request.fps,
                       retarget_config=retarget_config(settings),
                       **inputs_section.span(settings), **inputs_section.people(settings))
        result = _generate(portrait, driving, options,
                           lambda f, desc: progress(f, desc=desc), cancel)
        return shown(result, notes)

    async def animate(portrait, video=None, progress=gr.Progress(),
                      request: gr.Request = None, **settings):
        """Animate the portrait with the driving motion. Returns the animated clip (with the
        driving audio), a side-by-side clip (driving | skeleton | result), the seed used, the
        settings used (JSON), the retargeted poses (JSON file) and notes."""
        work = functools.partial(_animate, portrait, video, settings, progress)
        return await jobs.run(work, request)

    return animate


def build_demo(animator) -> gr.Blocks:
    """The page; every handler delegates to `animator`, whose preset the page opens with."""
    extract_pose = extract_pose_for(animator)
    jobs = Jobs()
    with gr.Blocks(title="Animator: pose-driven image animation",
                   delete_cache=(1800, 3600)) as demo:
        gr.Markdown(INTRO)
        notice = gr.Markdown(device_notice(animator, animator.preset), elem_id="device_notice")
        examples_slot = gr.Column()  # filled below, once the inputs they set exist
        # Each button sits right above its results, so that on a phone (one column) the
        # progress and the result appear where the user just tapped.
        with gr.Row():
            with gr.Column(scale=1):
                given = Inputs()
            with gr.Column(scale=1):
                pose = Pose()
        with gr.Row():
            with gr.Column(scale=1):
                with gr.Accordion("2. Generate: settings", open=True, elem_id="generate_panel"):
                    settings = Settings(animator)
                with gr.Row():
                    generate_btn = gr.Button("Generate", variant="primary", elem_id="generate")
                    stop_btn = gr.Button("Stop", variant="secondary", interactive=False,
                                         elem_id="stop")
            with gr.Column(scale=1):
                results = Results()
        with gr.Row(visible=False):  # the API's triggers
            pose_api, animate_api = gr.Button("extract_pose"), gr.Button("animate")
        # API parameters: portrait and video first (positional calls), then every setting
        # by name, each defaulting to the page's value.
        pose_inputs = {**given.api, **pose.api}
        with examples_slot:
            add_examples(given, pose, extract_pose, {k: c.value for k, c in pose_inputs.items()})
        seen = PeopleSeen(animator)
        given.wire(animator, seen)
        pose_args = dict(fn=extract_pose, inputs=[given.portrait, given.video],
                         outputs=pose.outputs, inputs_kwargs=pose_inputs, concurrency_limit=4,
                         concurrency_id="pose")
        pose_api.click(**pose_args, api_name="extract_pose")
        pose.button.click(**{**pose_args, "fn": on_page(extract_pose, 4, 3)},
                          show_progress_on=[pose.preview], api_visibility="private")
        animate = animate_for(animator, settings, jobs, seen)
        animate_args = dict(inputs=[given.portrait, given.video], outputs=results.outputs,
                            inputs_kwargs={**pose_inputs, **settings.api}, concurrency_limit=1,
                            concurrency_id="gpu")
        animate_api.click(animate, **animate_args, api_name="animate")
        buttons = [generate_btn, stop_btn]
        generation = generate_btn.click(
            _running, None, buttons, queue=False, show_progress="hidden",
            api_visibility="private",
        ).then(on_page(animate, 6, 5), **animate_args, show_progress_on=[results.video],
               api_visibility="private")
        generation.then(_idle, None, buttons, queue=False, show_progress="hidden",
                        api_visibility="private")
        stop_btn.click(lambda: (STOPPED, *_idle()), None, [results.notes, *buttons],
                       cancels=[generation], queue=False, show_progress="hidden",
                       api_visibility="private")
        demo.unload(jobs.client_left)
        _follow_the_preset(animator, settings, notice)
    return demo


def _running() -> tuple:
    """While a job runs: Generate off (saying so), Stop on."""
    return (gr.update(value="Generating…", interactive=False),
            gr.update(variant="stop", interactive=True))


def _idle() -> tuple:
    return gr.update(value="Generate", interactive=True), gr.update(variant="secondary",
                                                                    interactive=False)


def _follow_the_preset(animator, settings: Settings, notice) -> None:
    """Choosing a preset shows its family's controls with its defaults and says what runs;
    a load option that changes defaults (a distillation LoRA) sets them too."""

    def preset_defaults(preset_name):
        """Controls follow the chosen preset: its family's controls shown, its defaults."""
        return (*settings.preset_updates(preset_name), device_notice(animator, preset_name))

    settings.preset.change(preset_defaults, settings.preset, [*settings.preset_outputs, notice],
                           api_visibility="private")
    triggers, dependent = settings.option_triggers()
    if triggers and dependent:
        option_defaults = settings.option_defaults_for(triggers, dependent)
        for name in triggers:
            settings.controls[name].change(
                option_defaults, [settings.preset, *(settings.controls[n] for n in triggers)],
                [settings.controls[n] for n in dependent], api_visibility="private")
