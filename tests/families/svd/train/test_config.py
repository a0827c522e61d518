"""Training settings: YAML plus overrides, refusals before any work."""

from __future__ import annotations

import pytest
import torch
import yaml

from animator.errors import InputError
from animator.families.svd.train import load_config, train
from animator.families.svd.train.loop import _optimizer
from tests.families.svd.train.runs import _config


def test_config_from_yaml_and_overrides(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump({"data_dir": "/data", "learning_rate": 1e-4,
                                    "trainable": ["dense"], "ema": True}))
    config = load_config(path, ["learning_rate=3e-5", "trainable=skeleton, dense",
                                "max_steps=20", "gradient_checkpointing=true", "init_from=tiny",
                                "val_video="])
    assert config.learning_rate == 3e-5 and isinstance(config.learning_rate, float)
    assert config.trainable == ["skeleton", "dense"] and config.ema is True
    assert config.max_steps == 20 and config.gradient_checkpointing is True
    assert config.data_dir == "/data" and config.val_video == ""
    with pytest.raises(InputError, match="learning_rat .*did you mean learning_rate"):
        load_config(None, ["learning_rat=1"])
    with pytest.raises(InputError, match="max_steps=2.5 is not a valid int"):
        load_config(None, ["max_steps=2.5"])
    with pytest.raises(InputError, match="key=value"):
        load_config(None, ["max_steps"])
    with pytest.raises(InputError, match="No videos in"):  # the data folder is checked first
        train(_config(tmp_path, tmp_path / "out", trainable=["everything"]))
    (tmp_path / "clip.mp4").write_bytes(b"")  # a video by its name: the other checks come
    with pytest.raises(InputError, match="trainable must list some of"):
        train(_config(tmp_path, tmp_path / "out", trainable=["everything"]))
    with pytest.raises(InputError, match="Unknown lr_scheduler"):
        train(_config(tmp_path, tmp_path / "out", lr_scheduler="sometimes"))


@pytest.mark.skipif(__import__("importlib").util.find_spec("bitsandbytes") is not None,
                    reason="bitsandbytes is installed")
def test_8bit_adam_without_bitsandbytes_names_the_install(tmp_path):
    param = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(InputError, match="pip install bitsandbytes"):
        _optimizer(_config(tmp_path, tmp_path, use_8bit_adam=True), [param])
