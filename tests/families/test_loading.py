"""`local:` folders: every family's loader refuses, with a message naming the file, what
would run code, unpickle or break the parser, before any class is resolved."""

import json

import pytest

from animator import families
from animator.errors import InputError
from animator.families.loading import check_local_folder, read_model_index

WAN_INDEX = {
    "_class_name": "WanAnimatePipeline", "_diffusers_version": "0.42.1",
    "transformer": ["diffusers", "WanAnimateTransformer3DModel"],
    "vae": ["diffusers", "AutoencoderKLWan"],
    "scheduler": ["diffusers", "UniPCMultistepScheduler"],
    "text_encoder": ["transformers", "UMT5EncoderModel"],
}


def folder_with(tmp_path, index, text=None):
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "model_index.json").write_text(text if text is not None else json.dumps(index))
    return folder


@pytest.mark.parametrize("text, words", [
    ("[1, 2]", "JSON list, not an object"),
    ('{"_class_name": 5}', "names no pipeline class"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ('{"_class_name": "WanAnimatePipeline",', "not valid JSON"),
    ("\xff\xfe", "not valid JSON"),
])
def test_malformed_index_is_a_message_naming_the_file(tmp_path, text, words):
    folder = folder_with(tmp_path, None, text)
    for call in (lambda: read_model_index(folder),
                 lambda: families.family_of(f"local:{folder}")):
        with pytest.raises(InputError, match=words) as error:
            call()
        assert "model_index.json" in str(error.value)


def test_huge_index_is_refused_before_parsing(tmp_path):
    folder = folder_with(tmp_path, None, '{"_class_name": "x", "pad": "' + "a" * 2**21 + '"}')
    with pytest.raises(InputError, match="MB; a pipeline index"):
        read_model_index(folder)


@pytest.mark.parametrize("change, words", [
    ({"transformer": ["os", "system"]}, "names code from 'os'"),
    ({"transformer": ["builtins", "eval"]}, "names code from 'builtins'"),
    ({"transformer": ["diffusers", "os.system"]}, "does not have"),
    ({"transformer": ["diffusers", "NoSuchModel"]}, "does not have"),
    ({"transformer": ["diffusers"]}, "not \\[library, class\\]"),
    ({"_custom_pipeline": "pipeline.py"}, "asks for custom code"),
    ({"_class_name": "StableDiffusionPipeline"}, "not WanAnimatePipeline"),
])
def test_wan_local_folder_naming_code_is_refused_before_loading(tmp_path, change, words):
    folder = folder_with(tmp_path, {**WAN_INDEX, **change})
    with pytest.raises(InputError, match=words):
        check_local_folder(folder, ("WanAnimatePipeline",))
    if "_class_name" not in change:  # the family's own loader says the same, before diffusers
        with pytest.raises(InputError, match=words):
            families.load_generator(f"local:{folder}", allow_download=False)


def test_pickled_weights_are_refused(tmp_path):
    folder = folder_with(tmp_path, WAN_INDEX)
    (folder / "transformer").mkdir()
    (folder / "transformer" / "diffusion_pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(InputError, match="pickled weights"):
        families.load_generator(f"local:{folder}", allow_download=False)


def test_a_class_no_family_loads_is_refused_with_the_ones_that_load(tmp_path):
    folder = folder_with(tmp_path, {**WAN_INDEX, "_class_name": "os.system"})
    with pytest.raises(InputError, match="AnimationPipeline or WanAnimatePipeline"):
        families.family_of(f"local:{folder}")


def test_config_values_and_absent_parts_load(tmp_path):
    index = {**WAN_INDEX, "identity_mode": "sum", "image_encoder": [None, None], "x": 3}
    assert check_local_folder(folder_with(tmp_path, index), ("WanAnimatePipeline",)) == index
