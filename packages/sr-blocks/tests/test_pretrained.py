"""The authors' own checkpoints (../shared/weights, or $SR_WEIGHTS) load into the registry's models.

Each file loads into the model it holds with every tensor used, and a wrong file (another scale,
another model, a truncated copy, a pickle holding code) is one line naming it. The tests skip when
the folder is absent; the scores these networks reach are in tests/test_pretrained_tables.py at the
repository root (they need sr-eval and the benchmark images).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from sr_blocks import create_model
from sr_blocks.official import convert, read_weights
from sr_data import find_weights_root

WEIGHTS = find_weights_root()
pytestmark = pytest.mark.skipif(
    WEIGHTS is None, reason="official checkpoints not found: set SR_WEIGHTS or provide ../shared/weights"
)

#: file -> (registry name, scale, tensors in the file, parameters).
CHECKPOINTS = {
    "IMDN_x2.pth": ("imdn", 2, 92, 694_404),
    "IMDN_x3.pth": ("imdn", 3, 92, 703_059),
    "IMDN_x4.pth": ("imdn", 4, 92, 715_176),
    "IMDN_AS.pth": ("imdn_as", 4, 94, 752_104),
    "model_RTC.pth": ("imdn_rtc", 2, 56, 20_190),
    "RFDN_AIM.pth": ("rfdn", 4, 128, 433_448),
}


def _file(name: str) -> Path:
    path = WEIGHTS / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


@pytest.mark.parametrize("filename", sorted(CHECKPOINTS))
def test_each_checkpoint_loads_with_every_tensor_used(filename):
    name, scale, tensors, params = CHECKPOINTS[filename]
    path = _file(filename)
    weights = read_weights(path)
    conversion = convert(weights)
    assert len(weights.state) == len(conversion.placements) == tensors
    assert conversion.holds.startswith(f"{name} x{scale}" if name != "imdn_as" else "imdn_as")
    model = create_model(name, scale, weights=path)
    ours = model.state_dict()
    assert len(ours) == tensors and sum(p.numel() for p in model.parameters()) == params
    assert {p.target for p in conversion.placements} == set(ours)
    ends = conversion.ends if conversion.value_range != 1 else ()
    for p in conversion.placements:  # where the pixel range is folded, only the two end convs change
        if not any(p.target.startswith(f"{end}.") for end in ends):
            assert torch.equal(ours[p.target], p.value), p.key


def test_rfdn_tensors_are_mapped_by_name_not_by_position():
    """RFDN's ESA registers conv_f before conv_max and conv2: a positional copy would misplace them."""
    path = _file("RFDN_AIM.pth")
    file_shapes = [tuple(v.shape) for v in read_weights(path).state.values()]
    with torch.device("meta"):
        our_shapes = [tuple(v.shape) for v in create_model("rfdn", 4).state_dict().values()]
    assert sorted(file_shapes) == sorted(our_shapes) and file_shapes != our_shapes
    model = create_model("rfdn", 4, weights=path)
    skip = read_weights(path).state["B1.esa.conv_f.weight"]
    assert torch.equal(model.body.blocks[0].esa.conv_skip.weight, skip)


def test_rfdn_works_on_0_255_images_folded_into_its_end_convs():
    path = _file("RFDN_AIM.pth")
    state = read_weights(path).state
    model = create_model("rfdn", 4, weights=path)
    torch.testing.assert_close(model.conv_first.weight, state["fea_conv.weight"] * 255)
    torch.testing.assert_close(model.upsample[0].bias, state["upsampler.0.bias"] / 255)


@pytest.mark.parametrize(
    ("filename", "name", "scale", "words"),
    [
        (
            "IMDN_x3.pth",
            "imdn",
            2,
            "does not fit imdn x2's upsample.0.weight (12, 64, 3, 3); the file seems to hold imdn x3",
        ),
        (
            "IMDN_x4.pth",
            "rfdn",
            4,
            "does not fit rfdn x4's conv_first.weight (50, 3, 3, 3); the file seems to hold imdn x4",
        ),
        (
            "RFDN_AIM.pth",
            "imdn",
            4,
            "does not fit imdn x4's conv_first.weight (64, 3, 3, 3); the file seems to hold rfdn x4",
        ),
        ("IMDN_AS.pth", "imdn", 4, "which imdn x4 does not have; the file seems to hold imdn_as"),
        ("model_RTC.pth", "imdn", 2, "seems to hold imdn_rtc x2"),
    ],
)
def test_a_checkpoint_of_another_scale_or_model_is_one_line_naming_it(filename, name, scale, words):
    path = _file(filename)
    with pytest.raises(ValueError) as error:
        create_model(name, scale, weights=path)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{path}: tensor ") and words in message, message


def test_a_truncated_copy_is_one_line_naming_it(tmp_path):
    data = _file("IMDN_x2.pth").read_bytes()
    for size in (1_000, len(data) // 2, len(data) - 10):
        copy = tmp_path / f"IMDN_x2_{size}.pth"
        copy.write_bytes(data[:size])
        with pytest.raises(ValueError) as error:
            create_model("imdn", 2, weights=copy)
        message = str(error.value)
        assert "\n" not in message and message.startswith(f"{copy}: cannot be read, truncated"), message


class _CallsOnLoad:
    def __reduce__(self):
        return (os.getpid, ())


def test_a_checkpoint_carrying_code_is_refused_in_one_line(tmp_path):
    state = read_weights(_file("IMDN_x2.pth")).state
    tampered = tmp_path / "IMDN_x2_with_code.pth"
    torch.save({**state, "payload": _CallsOnLoad()}, tampered)
    with pytest.raises(ValueError) as error:
        create_model("imdn", 2, weights=tampered)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{tampered}: holds Python objects"), message
    assert "getpid" in message
