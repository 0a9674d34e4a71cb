"""x4 starts from the x2 model of the same configuration: every tensor but the last linear block's is
really copied (unlike the official code's no-op), and a missing or different x2 model is refused."""

from dataclasses import replace

import pytest
import torch

from sr_blocks import create_model
from sr_sesr.settings import Network
from sr_sesr.transfer import find_x2_checkpoint, load_x2_weights
from sr_train import load_checkpoint, save_checkpoint

SMALL = {"m": 2, "int_features": 8, "feature_size": 16}
SMALL_FLAGS = ["--m", "2", "--int_features", "8", "--feature_size", "16"]


def save_x2(out, network: Network, **changes):
    """A trained-looking x2 checkpoint (random weights) where the x4 run of ``network`` looks for it."""
    x2 = replace(network, scale=2)
    kwargs = {**x2.model_kwargs(), **changes}
    torch.manual_seed(2)
    model = create_model("sesr", scale=2, **kwargs)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn_like(parameter))
    path = x2.run_dir(out) / "best.pt"
    path.parent.mkdir(parents=True)
    save_checkpoint(
        path, {"model_name": "sesr", "model_kwargs": kwargs, "scale": 2, "state_dict": model.state_dict()}
    )
    return path


def test_every_layer_but_the_last_block_is_copied(tmp_path):
    network = Network(scale=4, **SMALL)
    source = save_x2(tmp_path, network)
    assert find_x2_checkpoint(network, tmp_path) == source
    model = create_model("sesr", scale=4, **network.model_kwargs())
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    transfer = load_x2_weights(model, network, source)
    x2_state = load_checkpoint(source)["state_dict"]
    state = model.state_dict()
    assert transfer["skipped"] == [k for k in state if k.startswith("conv_last.")] and transfer["skipped"]
    assert set(transfer["copied"]) == set(state) - set(transfer["skipped"])
    assert transfer["source"] == str(source)
    for name in transfer["copied"]:
        assert torch.equal(state[name], x2_state[name]), name
    for name in transfer["skipped"]:  # the x4 output block keeps its own initialisation
        assert torch.equal(state[name], fresh[name]), name
    assert (
        state["conv_last.project.weight"].shape[0] == 16
        and x2_state["conv_last.project.weight"].shape[0] == 4
    )


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"m": 3}, r"--m 3 \(this run: 2\)"),
        ({"feature_size": 32}, r"--feature_size 32 \(this run: 16\)"),
        ({"training_mode": "expanded"}, r"--linear_block_type 'expanded' \(this run: 'collapsed'\)"),
    ],
)
def test_an_x2_model_of_another_configuration_is_refused(tmp_path, changes, message):
    network = Network(scale=4, **SMALL)
    source = save_x2(tmp_path, network, **changes)
    with pytest.raises(ValueError, match=f"is not the x2 model of this configuration: .*{message}"):
        load_x2_weights(create_model("sesr", scale=4, **network.model_kwargs()), network, source)


def test_an_x4_checkpoint_is_not_an_x2_model(tmp_path):
    network = Network(scale=4, **SMALL)
    model = create_model("sesr", scale=4, **network.model_kwargs())
    path = tmp_path / "x4.pt"
    save_checkpoint(
        path,
        {
            "model_name": "sesr",
            "model_kwargs": network.model_kwargs(),
            "scale": 4,
            "state_dict": model.state_dict(),
        },
    )
    with pytest.raises(ValueError, match=r"scale 4 \(expected 2\)"):
        load_x2_weights(model, network, path)


def test_missing_x2_model_fails_before_anything_is_trained(sesr, tmp_path, capsys):
    assert sesr(["--scale", "4", *SMALL_FLAGS], tmp_path) == 2
    error = capsys.readouterr().err
    assert "x4 training starts from the x2 model of the same configuration, and there is none" in error
    assert "SESR_m2_f8_x2_fs16_collapsedTraining" in error
    assert not Network(scale=4, **SMALL).run_dir(tmp_path).exists()  # nothing written
    assert sesr(["--scale", "4", "--x2_model", str(tmp_path / "nowhere.pt"), *SMALL_FLAGS], tmp_path) == 2
    assert "--x2_model" in capsys.readouterr().err


def test_mismatched_x2_model_via_the_command_names_what_differs(sesr, tmp_path, capsys):
    source = save_x2(tmp_path, Network(scale=4, m=3, int_features=8, feature_size=16))
    assert sesr(["--scale", "4", "--x2_model", str(source), *SMALL_FLAGS], tmp_path) == 2
    assert "--m 3 (this run: 2)" in capsys.readouterr().err


def test_the_x4_run_starts_from_the_x2_weights(sesr, tmp_path):
    """End to end: x2 run, then an x4 run whose learning rate is too small to move a weight; its
    checkpoint then holds exactly the x2 run's weights, the last block aside."""
    assert sesr(SMALL_FLAGS, tmp_path) == 0
    assert sesr(["--scale", "4", "--learning_rate", "1e-30", *SMALL_FLAGS], tmp_path) == 0
    x2 = load_checkpoint(Network(scale=2, **SMALL).run_dir(tmp_path) / "best.pt")["state_dict"]
    x4 = load_checkpoint(Network(scale=4, **SMALL).run_dir(tmp_path) / "last.pt")["state_dict"]
    copied = [k for k in x4 if not k.startswith("conv_last.")]
    assert len(copied) == len(x4) - 4
    for name in copied:
        assert torch.equal(x4[name], x2[name]), name
