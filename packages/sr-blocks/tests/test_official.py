"""sr_blocks.official: layouts recognised from the file, mapped by name and structure, checked.

``data/`` holds what proves the mapping for the layouts without a checkpoint in ../shared/weights,
produced once from the official code (which is not kept here): each official class (EDSR-PyTorch
``model/edsr.py`` 3dd71ae and ``model/rdn.py``, BasicSR ``archs/edsr_arch.py`` and
``archs/ecbsr_arch.py``, xindongzhang/ECBSR ``models/ecbsr.py``) instantiated in float64 with random
weights, saved as its code saves it, loaded here, and both run: the outputs agreed to 1.3e-13 or
better for every layout and scale, full-size networks included.

- ``official_layouts.json``: the tensor names and shapes of those full-size networks' files;
- ``official_outputs.pt``: four tiny official networks (random weights, float32 values), each as the
  file its code writes, an input in [0, 1] and the official output (in [0, 1] units).
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest
import torch

from sr_blocks import create_model, list_models
from sr_blocks.layers import DIV2K_RGB_MEAN
from sr_blocks.official import convert, load_weights, read_weights
from sr_blocks.official.files import WeightsFile
from sr_reparam import deploy
from sr_reparam.kernels import fixed_filter

DATA = Path(__file__).parent / "data"
LAYOUTS = json.loads((DATA / "official_layouts.json").read_text())
OUTPUTS = torch.load(DATA / "official_outputs.pt", weights_only=True)
EDGE_FILTERS = {"sbx": "sobel_x", "sby": "sobel_y", "lpl": "laplacian"}


def _official_values(keys: list, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors with the names and shapes of an official file, and the fixed tensors the
    official code writes: EDSR-PyTorch's mean shifts (rgb_range 255), ECBSR's edge masks."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in keys:
        mask = re.search(r"conv1x1_(sbx|sby|lpl)\.mask$", key)
        if key.endswith("_mean.weight"):
            value = torch.eye(3).view(3, 3, 1, 1)
        elif key.endswith("_mean.bias"):
            value = (-255.0 if key.startswith("sub") else 255.0) * torch.tensor(DIV2K_RGB_MEAN)
        elif mask:
            value = fixed_filter(EDGE_FILTERS[mask[1]]).expand(shape[0], 1, 3, 3).clone()
        else:
            value = torch.randn(shape, generator=generator)
        state[key] = value
    return state


def _save(tmp_path: Path, content, name: str = "weights.pth") -> Path:
    path = tmp_path / name
    torch.save(content, path)
    return path


def _one_line(error: pytest.ExceptionInfo, path: Path) -> str:
    message = str(error.value)
    assert "\n" not in message and str(path) in message, message
    return message


@pytest.mark.parametrize("case", sorted(LAYOUTS))
def test_full_size_official_files_fill_every_tensor_once(case, tmp_path):
    spec = LAYOUTS[case]
    state = _official_values(spec["keys"])
    path = _save(tmp_path, {spec["wrapper"]: state} if spec["wrapper"] else state)
    model = create_model(spec["model"], spec["scale"], **spec["kwargs"])
    conversion = convert(read_weights(path))
    model = load_weights(model, path)
    ours = model.state_dict()
    placed = conversion.placements
    assert len({p.target for p in placed}) == len(placed)  # no tensor of ours filled twice
    assert len(placed) + len(conversion.implied) == len(ours)  # and none left out
    # Every tensor is where the mapping put it; the range conversion only scales, never moves.
    for p in placed:
        got, value = ours[p.target], p.value.reshape(ours[p.target].shape)
        assert any(torch.allclose(got, value * r) for r in (1.0, 1 / 255, 255.0)), (p.key, p.target)
    constants = {k for k in state if k.endswith(("_mean.weight", "mask"))}
    assert {p.key for p in placed} | constants == set(state)


@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_tiny_official_networks_give_the_official_output(case, tmp_path):
    fixture = OUTPUTS[case]
    path = _save(tmp_path, fixture["file"])
    model = load_weights(create_model(fixture["model"], fixture["scale"], **fixture["kwargs"]).double(), path)
    with torch.no_grad():
        out = model.eval()(fixture["input"].double())
    expected = fixture["output"].double()
    assert (out - expected).abs().max().item() <= 1e-6 * max(1.0, expected.abs().max().item())
    # The same through create_model(weights=...), in float32.
    model32 = create_model(fixture["model"], fixture["scale"], weights=path, **fixture["kwargs"]).eval()
    with torch.no_grad():
        torch.testing.assert_close(model32(fixture["input"]), fixture["output"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_the_order_of_the_tensors_in_the_file_does_not_matter(case, tmp_path):
    fixture = OUTPUTS[case]
    content = fixture["file"]
    wrapper = next((k for k in ("params", "params_ema") if k in content), None)
    state = content[wrapper] if wrapper else content
    keys = list(state)
    random.Random(0).shuffle(keys)
    shuffled = {k: state[k] for k in keys}
    path = _save(tmp_path, {wrapper: shuffled} if wrapper else shuffled)
    straight = create_model(
        fixture["model"], fixture["scale"], weights=_save(tmp_path, content, "a.pth"), **fixture["kwargs"]
    )
    reordered = create_model(fixture["model"], fixture["scale"], weights=path, **fixture["kwargs"])
    for key, value in straight.state_dict().items():
        assert torch.equal(reordered.state_dict()[key], value), key


def test_a_network_trained_on_0_255_is_converted_exactly():
    fixture = OUTPUTS["ecbsr_official_tiny_idt_x2"]  # the official ECBSR trains on [0, 255] Y
    state = fixture["file"]
    weights = WeightsFile(Path("ecbsr.pth"), dict(state))
    assert convert(weights).value_range == 255.0
    same_in_params = convert(WeightsFile(Path("ecbsr.pth"), dict(state), wrapper="params"))
    assert same_in_params.value_range == 1.0  # BasicSR trains ECBSR on [0, 1]


def test_value_range_can_be_overridden(tmp_path):
    fixture = OUTPUTS["edsr_pytorch_tiny_x4"]
    path = _save(tmp_path, fixture["file"])
    build = lambda: create_model("edsr_baseline", 4, **fixture["kwargs"]).double().eval()  # noqa: E731
    as_recorded = load_weights(build(), path)
    as_if_0_1 = load_weights(build(), path, value_range=1)
    assert not torch.equal(as_recorded.conv_first.bias, as_if_0_1.conv_first.bias)
    torch.testing.assert_close(as_recorded.conv_first.bias * 255, as_if_0_1.conv_first.bias)


def test_rescaling_biases_is_refused_for_a_network_it_would_change(tmp_path):
    fixture = OUTPUTS["ecbsr_official_tiny_idt_x2"]
    path = _save(tmp_path, fixture["file"])
    kwargs = {**fixture["kwargs"], "act": "softplus"}
    with pytest.raises(ValueError) as error:
        create_model("ecbsr", 2, weights=path, **kwargs)
    assert "Softplus" in _one_line(error, path) and "[0, 255]" in str(error.value)


def test_fixed_tensors_are_checked_before_they_are_dropped(tmp_path):
    fixture = OUTPUTS["ecbsr_official_tiny_idt_x2"]
    state = dict(fixture["file"])
    key = next(k for k in state if k.endswith("conv1x1_sbx.mask"))
    state[key] = state[key].flip(-1)
    path = _save(tmp_path, state)
    with pytest.raises(ValueError) as error:
        create_model("ecbsr", 2, weights=path, **fixture["kwargs"])
    assert key in _one_line(error, path) and "sobel_x" in str(error.value)


@pytest.mark.parametrize("name", list_models())
def test_our_own_names_are_never_taken_for_an_official_layout(name):
    with torch.device("meta"):
        state = create_model(name, scale=2).state_dict()
    if not state:
        pytest.skip(f"{name} has no tensors")
    conversion = convert(WeightsFile(Path(f"{name}.pth"), state))
    assert conversion.layout == "sr_blocks"
    assert all(p.target == p.key for p in conversion.placements)


def test_own_state_dicts_and_checkpoints_load(tmp_path):
    torch.manual_seed(0)
    source = create_model("imdn_rtc", 2)
    plain = _save(tmp_path, source.state_dict(), "plain.pth")
    checkpoint = {
        "format": "sr-toolkit-checkpoint-v1",
        "model_name": "imdn_rtc",
        "model_kwargs": {},
        "scale": 2,
        "state_dict": source.state_dict(),
    }
    wrapped = _save(tmp_path, checkpoint, "ckpt.pt")
    for path in (plain, wrapped):
        loaded = create_model("imdn_rtc", 2, weights=path)
        for key, value in source.state_dict().items():
            assert torch.equal(loaded.state_dict()[key], value)
    with pytest.raises(ValueError) as error:
        create_model("imdn_rtc", 3, weights=wrapped)
    assert "seems to hold imdn_rtc x2 (an sr_toolkit checkpoint)" in _one_line(error, wrapped)


def test_a_deployed_checkpoint_builds_the_deployed_form(tmp_path):
    torch.manual_seed(0)
    trained = create_model("ecbsr_m4c8", 2).eval()
    deployed = deploy(trained)
    checkpoint = {"model_name": "ecbsr_m4c8", "model_kwargs": {}, "scale": 2, "deployed": True}
    path = _save(tmp_path, {**checkpoint, "state_dict": deployed.state_dict()})
    model = create_model("ecbsr_m4c8", 2, weights=path).eval()
    x = torch.rand(1, 3, 9, 8)
    with torch.no_grad():
        torch.testing.assert_close(model(x), trained(x), rtol=1e-4, atol=1e-5)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in deployed.parameters())


def test_wrappers_and_prefixes_come_off(tmp_path):
    torch.manual_seed(0)
    state = create_model("imdn_rtc", 2).state_dict()
    parallel = _save(tmp_path, {f"module.{k}": v for k, v in state.items()}, "parallel.pth")
    read = read_weights(parallel)
    assert read.prefix == "module." and set(read.state) == set(state)
    garbage = {k: torch.zeros(1) for k in state}
    both = _save(tmp_path, {"params": garbage, "params_ema": state}, "basicsr.pth")  # EMA wins
    assert read_weights(both).wrapper == "params_ema"
    create_model("imdn_rtc", 2, weights=both)
    other = _save(tmp_path, {"state_dict": state, "epoch": 3}, "other.pth")
    assert read_weights(other).wrapper == "state_dict" and not read_weights(other).checkpoint.get(
        "model_name"
    )


class _RunsCode:
    """Unpickling this calls os.getcwd (harmless); a safe load must refuse it all the same."""

    def __reduce__(self):
        return (os.getcwd, ())


def test_files_that_are_not_weights_give_one_line_naming_the_file(tmp_path):
    good = _save(tmp_path, create_model("imdn_rtc", 2).state_dict(), "good.pth")
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    code = _save(tmp_path, {"conv.weight": torch.zeros(1), "hook": _RunsCode()}, "code.pth")
    numbers = _save(tmp_path, {"epoch": 3, "lr": 0.1}, "numbers.pth")
    a_list = _save(tmp_path, [torch.zeros(1)], "list.pth")
    for path, words in [
        (truncated, "truncated"),
        (empty, "truncated"),
        (code, "getcwd"),
        (numbers, "no state dict"),
        (a_list, "holds a list"),
    ]:
        with pytest.raises(ValueError) as error:
            create_model("imdn_rtc", 2, weights=path)
        assert words in _one_line(error, path)
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        create_model("imdn_rtc", 2, weights=tmp_path / "missing.pth")


def test_tensors_that_do_not_fit_give_one_line_naming_the_first(tmp_path):
    torch.manual_seed(0)
    state = create_model("imdn_rtc", 2).state_dict()
    extra = _save(tmp_path, {**state, "extra.weight": torch.zeros(3)}, "extra.pth")
    with pytest.raises(ValueError) as error:
        create_model("imdn_rtc", 2, weights=extra)
    assert "'extra.weight' (3,) would go to extra.weight, which imdn_rtc x2 does not have" in _one_line(
        error, extra
    )
    short = _save(tmp_path, {k: v for k, v in state.items() if k != "conv_after_body.bias"}, "short.pth")
    with pytest.raises(ValueError) as error:
        create_model("imdn_rtc", 2, weights=short)
    assert "imdn_rtc x2's conv_after_body.bias (12,) gets no tensor from the file" in _one_line(error, short)


def test_two_official_tensors_for_one_place_are_refused(tmp_path):
    fixture = OUTPUTS["edsr_pytorch_tiny_x4"]
    state = dict(fixture["file"])
    state["body.01.body.0.weight"] = state["body.1.body.0.weight"]  # names block 1 a second time
    path = _save(tmp_path, state)
    with pytest.raises(ValueError) as error:
        create_model("edsr_baseline", 4, weights=path, **fixture["kwargs"])
    assert "would go to body.1.conv1.weight a second time" in _one_line(error, path)


def test_an_official_tensor_with_no_place_is_named(tmp_path):
    fixture = OUTPUTS["edsr_pytorch_tiny_x4"]
    path = _save(tmp_path, {**fixture["file"], "tail.2.weight": torch.zeros(3, 4, 3, 3)})
    with pytest.raises(ValueError) as error:
        create_model("edsr_baseline", 4, weights=path, **fixture["kwargs"])
    message = _one_line(error, path)
    assert (
        "'tail.2.weight' (3, 4, 3, 3) has no place in edsr_baseline x4 (EDSR-PyTorch EDSR layout)" in message
    )
    assert (
        "seems to hold edsr_baseline with num_feat=4, num_block=2 x4 (EDSR-PyTorch EDSR, rgb_range 255)"
        in message
    )


def test_models_from_other_factories_take_no_weights(tmp_path):
    with pytest.raises(ValueError, match="'bicubic' is not one of sr_blocks' models"):
        create_model("bicubic", 2, weights=tmp_path / "w.pth")
