"""AnimationPipeline: SVD sampling driven by pose maps and a face embedding, clips of any length.

Sampling is diffusers' `StableVideoDiffusionPipeline` step for step (CLIP token, noise-augmented
VAE latent of the reference concatenated on channels, fps-1 / motion bucket / noise-aug time ids,
per-frame guidance ramp, Euler/EDM scheduler), so with no pose and no face the frames equal
diffusers' own. On top of it:

- pose: `FusedPoseEncoder` features enter after the UNet's conv_in (see models/unet.py);
- identity: `FaceProjector` tokens are appended after the CLIP token and read by the identity
  processors; the unconditional branch gets zero CLIP/face tokens, a zero image latent, no pose;
- long clips: windows of at most `window` frames overlapping by `overlap` are all denoised at
  every step and their noise predictions blended with triangular weights (`plan_windows`,
  `blend_weights`); a reference pose, when given, is every window's frame-0 anchor and its
  output frame is dropped after decoding (MimicMotion-style);
- noise: `window_noise="repeat"` draws one window's noise and tiles it along the clip (clip
  frame i gets noise frame i mod window), as MimicMotion's and StableAnimator's pipelines do;
  "independent" draws every frame's. A seed's generator sits on `generator_device`; the public
  scripts seed a CUDA generator, whose draws differ from a CPU one's for the same seed;
- schedule: `sigma_schedule="ays"` steps through Align Your Steps' noise levels for SVD
  (diffusers' `AysSchedules["StableDiffusionVideoSigmas"]`, 10 steps) instead of the
  scheduler's own spacing;
- continuation mode: windows are sampled one after another instead; window k > 0 starts at the
  last frame of window k-1, whose decoded pixels (noise-augmented, VAE-encoded) replace the
  reference image latent and whose pose becomes the frame-0 anchor; that frame is not output
  again. The CLIP and face tokens stay the portrait's.
- memory: latents are decoded `decode_chunk_size` frames at a time and every chunk is turned into
  uint8 frames (streamed to `writer` or stored) before the next is decoded. The anchor's latent
  is decoded too and its frame dropped afterwards, as MimicMotion's inference does: SVD's
  temporal decoder mixes the frames of a chunk, so decoding without it shifts every chunk by
  one frame and changes every output frame.

This module is the one class and the two helpers its sampling loop keeps state in (the pose
features per window, the frame sink), over 400 lines because the steps above share the
pipeline's modules and scheduler; the model-free arithmetic is windows.py, the input checks
inputs.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PIL.Image
import torch
import torch.nn.functional as F
from diffusers import (
    AutoencoderKLTemporalDecoder,
    DiffusionPipeline,
    EulerDiscreteScheduler,
    UNetSpatioTemporalConditionModel,
)
from diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion import (
    _resize_with_antialiasing,
)
from diffusers.utils import BaseOutput
from diffusers.utils.torch_utils import randn_tensor
from diffusers.video_processor import VideoProcessor
from huggingface_hub import hf_hub_download
from safetensors.torch import load_file, save_file
from transformers import CLIPVisionModelWithProjection
from transformers.image_processing_utils import BaseImageProcessor

from animator.errors import InputError
from animator.families.svd.config import GenerationConfig
from animator.families.svd.inputs import check_inputs, check_options
from animator.families.svd.models.identity import FaceProjector
from animator.families.svd.models.pose_encoder import FusedPoseEncoder
from animator.families.svd.models.unet import (
    identity_processors,
    identity_state_dict,
    install_identity,
    install_pose,
    load_identity_state_dict,
    pose_injector,
    remove_identity,
    set_identity,
)
from animator.families.svd.windows import (
    ays_sigmas,
    blend_weights,
    plan_public_windows,
    plan_windows,
    public_blend_weights,
)

IDENTITY_WEIGHTS = "identity_processors.safetensors"  # saved in the face_projector folder
_DEFAULTS = GenerationConfig()


@dataclass
class AnimationPipelineOutput(BaseOutput):
    """frames: uint8 (T, H, W, 3) for "np", a list of PIL images for "pil", latents
    (1, T, 4, h, w) for "latent"; None when frames went to a writer."""

    frames: np.ndarray | list[PIL.Image.Image] | torch.Tensor | None


class AnimationPipeline(DiffusionPipeline):
    """SVD image-to-video with pose and identity control; see the module docstring.

    `pose_encoder` and `face_projector` are optional. Given a pose encoder, a pose hook is
    installed on the UNet; given a face projector, identity processors in `identity_mode`
    ("sum" or "normalized") are installed (models/unet.py). The UNet then expects face tokens
    after the CLIP token, so do not share it with a plain SVD pipeline.
    """

    model_cpu_offload_seq = "image_encoder->face_projector->pose_encoder->unet->vae"
    _optional_components = ["pose_encoder", "face_projector"]
    pose_cache_bytes = 512 * 2**20  # pose features kept across steps up to this size

    def __init__(
        self,
        vae: AutoencoderKLTemporalDecoder,
        image_encoder: CLIPVisionModelWithProjection,
        unet: UNetSpatioTemporalConditionModel,
        scheduler: EulerDiscreteScheduler,
        feature_extractor: BaseImageProcessor,  # a CLIP image processor
        pose_encoder: FusedPoseEncoder | None = None,
        face_projector: FaceProjector | None = None,
        identity_mode: str = "sum",
    ):
        super().__init__()
        self.register_modules(vae=vae, image_encoder=image_encoder, unet=unet,
                              scheduler=scheduler, feature_extractor=feature_extractor,
                              pose_encoder=pose_encoder, face_projector=face_projector)
        self.register_to_config(identity_mode=identity_mode)
        self.vae_scale_factor = 2 ** (len(vae.config.block_out_channels) - 1)
        self.video_processor = VideoProcessor(do_resize=True,
                                              vae_scale_factor=self.vae_scale_factor)
        if pose_encoder is not None:
            width = unet.config.block_out_channels[0]
            if pose_encoder.config.out_channels != width or self.vae_scale_factor != 8:
                raise ValueError(f"the pose encoder gives {pose_encoder.config.out_channels} "
                                 f"channels at 1/8 size; this UNet/VAE needs {width} at "
                                 f"1/{self.vae_scale_factor}")
            install_pose(unet)
        if face_projector is not None:
            install_identity(unet, face_projector.config.num_tokens, identity_mode)

    # ----------------------------------------------------------------------------- save/load

    def save_pretrained(self, save_directory: str | Path, **kwargs) -> None:
        """diffusers layout; the UNet folder stays a stock UNet and the identity processors'
        weights go to face_projector/identity_processors.safetensors."""
        if self.face_projector is None or not identity_processors(self.unet):
            return super().save_pretrained(save_directory, **kwargs)
        folder = Path(save_directory) / "face_projector"
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.detach().cpu().contiguous() for k, v in
                   identity_state_dict(self.unet).items()}, folder / IDENTITY_WEIGHTS)
        processors = self.unet.attn_processors
        remove_identity(self.unet)
        try:
            super().save_pretrained(save_directory, **kwargs)
        finally:
            self.unet.set_attn_processor(processors)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, **kwargs
                        ) -> AnimationPipeline:
        """diffusers' loader, then the identity processors' weights (unless a face projector
        was passed in)."""
        pipe = super().from_pretrained(pretrained_model_name_or_path, **kwargs)
        pipe.reallocate_weights()
        if identity_processors(pipe.unet) and "face_projector" not in kwargs:
            path = Path(pretrained_model_name_or_path) / "face_projector" / IDENTITY_WEIGHTS
            if not path.is_file():
                path = hf_hub_download(str(pretrained_model_name_or_path),
                                       f"face_projector/{IDENTITY_WEIGHTS}",
                                       revision=kwargs.get("revision"),
                                       cache_dir=kwargs.get("cache_dir"),
                                       token=kwargs.get("token"))
            load_identity_state_dict(pipe.unet, load_file(path))
        return pipe

    def reallocate_weights(self) -> None:
        """Give every weight a fresh allocation of its own.

        Loaders leave weights as views at odd offsets of the files they read (mmap);
        float32 kernels then sum in another order, ~1e-7 apart. Fresh, aligned copies make
        a loaded pipeline give exactly the frames the saved one gave."""
        for module in self.components.values():
            if isinstance(module, torch.nn.Module):
                for param in module.parameters():
                    param.data = param.data.clone()

    # ----------------------------------------------------------------------------- encoders

    def _encode_clip(self, image: PIL.Image.Image, device: torch.device) -> torch.Tensor:
        """CLIP image token (1, 1, D), preprocessed exactly as diffusers' SVD pipeline."""
        dtype = next(self.image_encoder.parameters()).dtype
        pixels = self.video_processor.numpy_to_pt(self.video_processor.pil_to_numpy(image))
        pixels = _resize_with_antialiasing(pixels * 2.0 - 1.0, (224, 224))
        pixels = (pixels + 1.0) / 2.0
        pixels = self.feature_extractor(images=pixels, do_normalize=True, do_center_crop=False,
                                        do_resize=False, do_rescale=False,
                                        return_tensors="pt").pixel_values
        return self.image_encoder(pixels.to(device=device, dtype=dtype)).image_embeds[:, None]

    def _encode_vae(self, pixels: torch.Tensor, noise_aug_strength: float,
                    generator: torch.Generator | None, dtype: torch.dtype) -> torch.Tensor:
        """Noise-augmented VAE latent (1, 4, h, w) of pixels (1, 3, H, W) in [-1, 1]."""
        noise = randn_tensor(pixels.shape, generator=generator, device=pixels.device,
                             dtype=pixels.dtype)
        pixels = pixels + noise_aug_strength * noise
        upcast = self.vae.dtype == torch.float16 and self.vae.config.force_upcast
        if upcast:
            self.vae.to(dtype=torch.float32)
        latent = self.vae.encode(pixels.to(dtype=self.vae.dtype)).latent_dist.mode()
        if upcast:
            self.vae.to(dtype=torch.float16)
        return latent.to(dtype)

    def _decode(self, latents: torch.Tensor, chunk: int):
        """Yield decoded frames (c, 3, H, W) in [-1, 1], `chunk` frames at a time."""
        latents = 1 / self.vae.config.scaling_factor * latents.flatten(0, 1)
        for i in range(0, latents.shape[0], chunk):
            part = latents[i : i + chunk].to(self.vae.dtype)
            yield self.vae.decode(part, num_frames=part.shape[0]).sample.float()

    def _decode_into(self, latents: torch.Tensor, chunk: int, sink: _FrameSink, drop: int
                     ) -> torch.Tensor:
        """Decode all of `latents` in chunks from its frame 0 and hand all but the first `drop`
        frames to `sink` (the anchor is decoded with its neighbours, then dropped, as
        MimicMotion's inference does). Returns the last chunk's frames."""
        for frames in self._decode(latents, chunk):
            kept = frames[drop:]
            drop = max(0, drop - len(frames))
            if len(kept):
                sink.add(kept)
        return frames

    def _set_schedule(self, steps: int, sigma_schedule: str, device: torch.device) -> None:
        if sigma_schedule == "ays":
            self.scheduler.set_timesteps(sigmas=ays_sigmas(steps), device=device)
        else:
            self.scheduler.set_timesteps(steps, device=device)

    def _noise(self, shape: tuple[int, ...], window: int, window_noise: str,
               generator: torch.Generator | None, device: torch.device, dtype: torch.dtype
               ) -> torch.Tensor:
        """Initial noise (1, T, C, h, w): every frame drawn, or one `window`-frame draw
        repeated along the clip (frame i gets draw i mod window, shorter clips the first
        frames of it), as MimicMotion's and StableAnimator's pipelines do."""
        if window_noise == "independent":
            return randn_tensor(shape, generator=generator, device=device, dtype=dtype)
        once = randn_tensor((shape[0], window, *shape[2:]), generator=generator, device=device,
                            dtype=dtype)
        return once[:, torch.arange(shape[1], device=device) % window]

    def _generator(self, seed: int, generator_device: str, device: torch.device
                   ) -> torch.Generator:
        """The seeded generator: on the CPU, on the model's device ("auto"), or on its CUDA
        device ("cuda", what the public scripts use)."""
        if generator_device == "cpu":
            return torch.Generator().manual_seed(seed)
        if generator_device == "cuda" and device.type != "cuda":
            raise InputError(f"generator_device='cuda' needs the model on a CUDA GPU (it runs "
                             f"on {device}): use 'cpu' or 'auto'.")
        return torch.Generator(device=device).manual_seed(seed)

    def _context(self, clip: torch.Tensor, face_embedding, identity_strength: float
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """(conditional, unconditional) cross-attention context: CLIP token [+ face tokens]."""
        processors = identity_processors(self.unet)
        if face_embedding is not None and self.face_projector is None:
            raise InputError("This model has no identity module: load a preset with one, "
                             "or leave the face embedding out.")
        if processors:
            num_tokens = next(iter(processors.values())).num_tokens
            use = face_embedding is not None and identity_strength != 0
            if use:
                face = torch.as_tensor(np.asarray(face_embedding, dtype=np.float32))
                if face.numel() != self.face_projector.config.id_embeddings_dim:
                    raise InputError(f"The face embedding must have "
                                     f"{self.face_projector.config.id_embeddings_dim} values, "
                                     f"got {face.numel()}: pass the ArcFace embedding.")
                tokens = self.face_projector(face.reshape(1, -1).to(clip.device), clip)
            else:
                tokens = clip.new_zeros(1, num_tokens, clip.shape[-1])
            set_identity(self.unet, strength=identity_strength if use else 0.0)
            clip = torch.cat([clip, tokens.to(clip.dtype)], dim=1)
        return clip, torch.zeros_like(clip)

    # ----------------------------------------------------------------------------- denoising

    def _unet(self, sample, t, context, time_ids, pose) -> torch.Tensor:
        injector = pose_injector(self.unet)
        if injector is None:
            return self.unet(sample, t, encoder_hidden_states=context, added_time_ids=time_ids,
                             return_dict=False)[0]
        with injector.use(pose):
            return self.unet(sample, t, encoder_hidden_states=context, added_time_ids=time_ids,
                             return_dict=False)[0]

    def _predict(self, latents, t, image_latent, cond, uncond, time_ids, guidance, pose,
                 cfg_mode: str) -> torch.Tensor:
        """Guided noise prediction for one window (1, n, 4, h, w)."""
        x = self.scheduler.scale_model_input(latents, t)
        image = image_latent[:, None].expand(-1, x.shape[1], -1, -1, -1)
        cond_in = torch.cat([x, image], dim=2)
        if guidance is None:
            return self._unet(cond_in, t, cond, time_ids, pose)
        uncond_in = torch.cat([x, torch.zeros_like(image)], dim=2)
        if cfg_mode == "batched":
            pred = self._unet(torch.cat([uncond_in, cond_in]), t, torch.cat([uncond, cond]),
                              torch.cat([time_ids, time_ids]), pose)
            pred_uncond, pred_cond = pred.chunk(2)
        else:
            pred_uncond = self._unet(uncond_in, t, uncond, time_ids, None)
            pred_cond = self._unet(cond_in, t, cond, time_ids, pose)
        return pred_uncond + guidance * (pred_cond - pred_uncond)

    def _sample_blended(self, latents, windows, blend, image_latent, predict, tick
                        ) -> torch.Tensor:
        """All windows every step; their predictions blended (`blend`: each window's
        per-frame weights), one scheduler step per step."""
        weights = [w.to(latents.device, latents.dtype).view(1, -1, 1, 1, 1) for w in blend]
        for t in self.scheduler.timesteps:
            noise_pred = torch.zeros_like(latents)
            for w, idx in enumerate(windows):
                noise_pred[:, idx] += weights[w] * predict(latents[:, idx], t, image_latent, idx)
                tick(w)
            latents = self.scheduler.step(noise_pred, t, latents).prev_sample
        return latents

    def _sample_continued(self, latents, windows, anchor, image_latent, predict, tick,
                          noise_aug_strength, generator, decode_chunk_size, sink, restart
                          ) -> torch.Tensor:
        """Windows one after another; window k > 0 is conditioned on window k-1's last frame
        (its decoded pixels, noise-augmented and encoded, replace the image latent), which it
        shares as frame 0 and does not output again (it is decoded with its window, then
        dropped, like the anchor). `restart` resets the scheduler for the next window.
        Returns the output frames' latents."""
        outputs, last_frame = [], None
        for w, idx in enumerate(windows):
            if w > 0:
                restart()
                image_latent = self._encode_vae(last_frame, noise_aug_strength, generator,
                                                latents.dtype)
            lat = latents[:, idx]
            for t in self.scheduler.timesteps:
                lat = self.scheduler.step(predict(lat, t, image_latent, idx), t, lat).prev_sample
                tick(w)
            shared = int(anchor) if w == 0 else 1
            outputs.append(lat[:, shared:])
            if sink is None:
                last_frame = next(self._decode(lat[:, -1:], 1))
            else:
                last_frame = self._decode_into(lat, decode_chunk_size, sink, shared)[-1:]
        return torch.cat(outputs, dim=1)

    @torch.no_grad()
    def __call__(
        self,
        image: PIL.Image.Image | np.ndarray,
        skeleton: np.ndarray | Sequence[np.ndarray] | None = None,
        *,
        dense: np.ndarray | Sequence[np.ndarray] | None = None,
        reference_pose: np.ndarray | None = None,
        face_embedding: np.ndarray | torch.Tensor | None = None,
        num_frames: int | None = None,
        height: int | None = None,
        width: int | None = None,
        num_inference_steps: int = _DEFAULTS.num_inference_steps,
        min_guidance_scale: float = _DEFAULTS.min_guidance_scale,
        max_guidance_scale: float = _DEFAULTS.max_guidance_scale,
        fps: int = _DEFAULTS.fps,
        motion_bucket_id: int = _DEFAULTS.motion_bucket_id,
        noise_aug_strength: float = _DEFAULTS.noise_aug_strength,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        window: int = _DEFAULTS.window,
        overlap: int = _DEFAULTS.overlap,
        decode_chunk_size: int = _DEFAULTS.decode_chunk_size,
        cfg_mode: str = _DEFAULTS.cfg_mode,
        pose_strength: float = _DEFAULTS.pose_strength,
        identity_strength: float = _DEFAULTS.identity_strength,
        continuation: bool = _DEFAULTS.continuation,
        window_noise: str = _DEFAULTS.window_noise,
        generator_device: str = _DEFAULTS.generator_device,
        sigma_schedule: str = _DEFAULTS.sigma_schedule,
        windows: str = _DEFAULTS.windows,
        callback: Callable[[int, int, int], None] | None = None,
        writer: Callable[[np.ndarray], None] | None = None,
        output_type: str = "np",
    ) -> AnimationPipelineOutput:
        """Animate `image` along the pose frames.

        Args:
            image: the portrait, PIL or uint8 RGB (H, W, 3).
            skeleton: skeleton maps, uint8 RGB (T, H, W, 3) or a list of (H, W, 3); T frames out.
            dense: dense maps, same form and length as `skeleton`.
            reference_pose: the portrait's own skeleton map (H, W, 3): every window's frame-0
                anchor, its output frame dropped. None = no anchor.
            face_embedding: raw ArcFace embedding (512,); None = identity off. An all-zero
                embedding (no face found) goes through the projector, as in StableAnimator.
            num_frames: frame count when no pose frames are given.
            height, width: output size (multiples of 8); default: the pose frames' size, else
                the image's rounded down to multiples of 8.
            seed / generator: a seed makes a generator on `generator_device` ("cpu", "cuda"
                or "auto": the model's device); a generator wins over a seed.
            window, overlap, continuation: long-clip windows (see the module docstring).
            windows: "lean" (our plan: fewest frames computed, guidance ramped per window)
                or "public" (MimicMotion's and StableAnimator's plan and blend, guidance
                ramped over the whole clip).
            window_noise: "independent" or "repeat" (one window's noise tiled along the clip).
            sigma_schedule: "default" (the scheduler's spacing) or "ays" (Align Your Steps).
            cfg_mode: "batched" or "sequential" classifier-free guidance.
            callback: called as callback(step, total, window) after every window pass; step
                counts passes done (1..total), total = num_inference_steps * number of windows,
                window is the index of the window just denoised.
            writer: if given, receives each uint8 (H, W, 3) frame in order and nothing is kept.
            output_type: "np" (uint8 (T, H, W, 3)), "pil" or "latent".
            Other arguments as in diffusers' StableVideoDiffusionPipeline / GenerationConfig.
        """
        image, skeleton, dense, reference_pose, num_frames, height, width = check_inputs(
            image, skeleton, dense, reference_pose, num_frames, height, width,
            has_pose_encoder=self.pose_encoder is not None)
        check_options(cfg_mode=cfg_mode, window_noise=window_noise,
                      generator_device=generator_device, sigma_schedule=sigma_schedule,
                      output_type=output_type, decode_chunk_size=decode_chunk_size)
        anchor = reference_pose is not None
        clip_len = num_frames + int(anchor)
        if windows not in ("lean", "public"):
            raise InputError(f"windows must be 'lean' or 'public', got {windows!r}.")
        public = windows == "public" and not continuation
        if continuation:
            plan = plan_windows(clip_len, window, 1)
        elif public:
            plan = plan_public_windows(clip_len, window, overlap)
        else:
            plan = plan_windows(num_frames, window, overlap, anchor)

        device = self._execution_device
        if generator is None and seed is not None:
            generator = self._generator(seed, generator_device, device)

        # Conditioning, in diffusers' order (the generator's draws must match its pipeline).
        clip = self._encode_clip(image, device)
        dtype = clip.dtype
        cond, uncond = self._context(clip, face_embedding, identity_strength)
        pixels = self.video_processor.preprocess(image, height=height, width=width).to(device)
        image_latent = self._encode_vae(pixels, noise_aug_strength, generator, dtype)
        time_ids = torch.tensor([[fps - 1, motion_bucket_id, noise_aug_strength]], dtype=dtype,
                                device=device)
        self._set_schedule(num_inference_steps, sigma_schedule, device)
        shape = (1, clip_len, self.vae.config.latent_channels, height // self.vae_scale_factor,
                 width // self.vae_scale_factor)
        latents = self._noise(shape, window, window_noise, generator, device, dtype)
        latents = latents * self.scheduler.init_noise_sigma

        pose = _PoseFeatures(self, skeleton, dense, reference_pose, (height, width),
                             pose_strength, device)
        do_cfg = max(min_guidance_scale, max_guidance_scale) > 1

        def predict(lat: torch.Tensor, t, image_lat: torch.Tensor, idx: list[int]) -> torch.Tensor:
            guidance = None
            if do_cfg:
                if public:  # one ramp over the whole clip, as the public pipelines
                    guidance = torch.linspace(min_guidance_scale, max_guidance_scale,
                                              clip_len)[idx]
                else:
                    guidance = torch.linspace(min_guidance_scale, max_guidance_scale, len(idx))
                guidance = guidance.to(device, dtype).view(1, -1, 1, 1, 1)
            return self._predict(lat, t, image_lat, cond, uncond, time_ids, guidance, pose(idx),
                                 cfg_mode)

        sink = None if output_type == "latent" else _FrameSink(writer, output_type, num_frames)
        total = num_inference_steps * len(plan)
        done = 0
        with self.progress_bar(total=total) as bar:

            def tick(w: int) -> None:
                nonlocal done
                done += 1
                bar.update()
                if callback is not None:
                    callback(done, total, w)

            if continuation:
                latents = self._sample_continued(
                    latents, plan, anchor, image_latent, predict, tick, noise_aug_strength,
                    generator, decode_chunk_size, sink,
                    lambda: self._set_schedule(num_inference_steps, sigma_schedule, device))
            else:
                blend = (public_blend_weights(plan, clip_len) if public
                         else blend_weights(plan, clip_len, anchor))
                latents = self._sample_blended(latents, plan, blend, image_latent, predict,
                                               tick)
                if sink is not None:
                    self._decode_into(latents, decode_chunk_size, sink, int(anchor))
                latents = latents[:, int(anchor):]

        self.maybe_free_model_hooks()
        if output_type == "latent":
            return AnimationPipelineOutput(frames=latents)
        return AnimationPipelineOutput(frames=sink.result())


class _PoseFeatures:
    """Pose features of a window's clip frames (anchor = clip frame 0), cached up to
    `pipe.pose_cache_bytes` since they do not change between steps."""

    def __init__(self, pipe: AnimationPipeline, skeleton, dense, reference, size, strength,
                 device):
        self.pipe, self.skeleton, self.dense, self.reference = pipe, skeleton, dense, reference
        self.size, self.strength, self.device = size, strength, device
        self.cache: dict[tuple[int, ...], torch.Tensor] = {}
        self.cached_bytes = 0

    def _pixels(self, frames: list[np.ndarray]) -> torch.Tensor:
        x = torch.from_numpy(np.stack(frames)).to(self.device).permute(0, 3, 1, 2).float()
        if x.shape[-2:] != self.size:
            x = F.interpolate(x, size=self.size, mode="bilinear", antialias=True)
        return x / 127.5 - 1.0

    def __call__(self, idx: list[int]) -> torch.Tensor | None:
        if self.strength == 0 or (self.skeleton is None and self.dense is None):
            return None
        key = tuple(idx)
        if key in self.cache:
            return self.cache[key]
        anchor = self.reference is not None
        encoder = self.pipe.pose_encoder
        out = None
        if self.skeleton is not None:
            frames = [self.reference if anchor and i == 0 else self.skeleton[i - anchor]
                      for i in idx]
            out = encoder(self._pixels(frames), None)
        if self.dense is not None:
            # The anchor has no dense map: the dense branch adds nothing to it.
            rows = [j for j, i in enumerate(idx) if not (anchor and i == 0)]
            d = encoder(None, self._pixels([self.dense[idx[j] - anchor] for j in rows]))
            if d is not None:
                rows = torch.tensor(rows, device=d.device)
                out = (torch.zeros(len(idx), *d.shape[1:], device=d.device, dtype=d.dtype)
                       if out is None else out).index_add(0, rows, d)
        if out is not None:
            out = (out * self.strength).to(self.pipe.unet.dtype)
            if self.cached_bytes + out.nbytes <= self.pipe.pose_cache_bytes:
                self.cache[key] = out
                self.cached_bytes += out.nbytes
        return out


class _FrameSink:
    """Turns decoded chunks into uint8 frames, streamed to a writer or kept (never float)."""

    def __init__(self, writer, output_type: str, num_frames: int):
        self.writer, self.output_type, self.num_frames = writer, output_type, num_frames
        self.frames: np.ndarray | None = None
        self.count = 0

    def add(self, chunk: torch.Tensor) -> None:
        frames = ((chunk * 0.5 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)
        frames = frames.permute(0, 2, 3, 1).cpu().numpy()
        if self.writer is not None:
            for frame in frames:
                self.writer(frame)
        else:
            if self.frames is None:
                self.frames = np.empty((self.num_frames, *frames.shape[1:]), np.uint8)
            self.frames[self.count : self.count + len(frames)] = frames
        self.count += len(frames)

    def result(self) -> np.ndarray | list[PIL.Image.Image] | None:
        if self.writer is not None:
            return None
        if self.output_type == "pil":
            return [PIL.Image.fromarray(f) for f in self.frames]
        return self.frames
