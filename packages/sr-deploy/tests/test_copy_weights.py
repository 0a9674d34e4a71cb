"""`copy_weights`: a network starts from another's weights where they fit, the skipped ones its own."""

from __future__ import annotations

import pytest
import torch

from sr_blocks import create_model
from sr_deploy.loading import copy_weights


def test_every_tensor_but_the_skipped_ones_is_copied():
    torch.manual_seed(0)
    x2, x4 = create_model("sesr_m3", scale=2), create_model("sesr_m3", scale=4)
    fresh = {name: value.clone() for name, value in x4.state_dict().items()}
    done = copy_weights(x4, x2, skip=["conv_last."])
    state, source = x4.state_dict(), x2.state_dict()
    assert done["skipped"] == [name for name in state if name.startswith("conv_last.")] and done["skipped"]
    assert done["copied"] == [name for name in state if name not in done["skipped"]]
    assert all(torch.equal(state[name], source[name]) for name in done["copied"])
    assert all(torch.equal(state[name], fresh[name]) for name in done["skipped"])


def test_a_tensor_that_does_not_fit_is_named_and_nothing_is_copied():
    torch.manual_seed(0)
    x2, x4 = create_model("sesr_m3", scale=2), create_model("sesr_m3", scale=4)
    before = {name: value.clone() for name, value in x4.state_dict().items()}
    with pytest.raises(ValueError, match=r"cannot copy 'conv_last.project.weight' \(48, .*shape \(12, "):
        copy_weights(x4, x2)
    assert all(torch.equal(x4.state_dict()[name], value) for name, value in before.items())
