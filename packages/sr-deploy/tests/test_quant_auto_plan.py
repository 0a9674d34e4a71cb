"""The automatic mixed-precision plan, ptq's default: hold-out split, budget, report."""

from __future__ import annotations

import math

import pytest
import torch

import sr_data
import sr_eval
from sr_deploy import quant
from sr_deploy.quant import auto_plan
from sr_deploy.quant.holdout import split_calibration
from sr_deploy.testing import smooth_pairs, tiny_net
from sr_train import PatchTensors

SCALE = 2
CONVS = ["0", "2", "4"]


@pytest.fixture(scope="module")
def patches() -> PatchTensors:
    """16 smooth random 24x24 HR patches and their bicubic LR."""
    return PatchTensors(*smooth_pairs(16, 24, SCALE))


def test_split_holds_out_every_fourth_item(patches):
    split = split_calibration(patches)
    assert split.counts == (12, 4)
    held_lr, held_hr = split.holdout[0]
    assert torch.equal(held_lr, patches.lr[3::4]) and torch.equal(held_hr, patches.hr[3::4])
    pairs = [(patches.lr[i], patches.hr[i]) for i in range(8)]  # (lr, hr) items split the same way
    assert split_calibration(pairs).counts == (6, 2)


def test_default_plan_reads_only_the_calibration_data(patches, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the automatic plan opened a test set")

    for module, name in ((sr_data, "open_test_sets"), (sr_data, "Benchmark"), (sr_eval, "evaluate")):
        monkeypatch.setattr(module, name, refuse)
    qmodel = quant.ptq(tiny_net(SCALE, outlier=True), patches)  # the default: the automatic plan
    plan = qmodel.mixed_plan
    assert (plan.calibration_items, plan.holdout_items) == (12, 4)
    assert plan.all_int8_drop > 1.0  # the stretched quantisers cost dB ...
    assert plan.keep_float and plan.drop < plan.max_drop == 0.1  # ... which the float convs win back
    assert quant.float_convs(qmodel) == sorted(plan.keep_float, key=CONVS.index)
    summary = plan.summary()
    for name in plan.keep_float:
        assert f"float: {name} (costs" in summary
    assert 0 < plan.float_mac_share < 1


def test_budget_of_zero_keeps_every_conv_float(patches):
    plan = quant.mixed_precision_plan(tiny_net(SCALE, outlier=True), patches, max_drop=0)
    assert sorted(plan.keep_float) == CONVS and plan.float_mac_share == 1
    with pytest.raises(ValueError, match="raise max_drop, or give keep_float=()"):
        quant.ptq(tiny_net(SCALE, outlier=True), patches, max_drop=0)


def test_infinite_budget_keeps_nothing_float(patches):
    qmodel = quant.ptq(tiny_net(SCALE, outlier=True), patches, max_drop=math.inf)
    assert qmodel.mixed_plan.keep_float == () and quant.float_convs(qmodel) == []
    assert "0 conv(s) float" in qmodel.mixed_plan.summary()


def test_all_int8_and_lr_only_inputs(patches):
    assert quant.float_convs(quant.ptq(tiny_net(SCALE, outlier=True), patches.lr, keep_float=())) == []
    with pytest.raises(ValueError, match="needs HR targets"):
        quant.ptq(tiny_net(SCALE, outlier=True), patches.lr)
    with pytest.raises(ValueError, match="max_drop must be"):
        quant.ptq(tiny_net(SCALE, outlier=True), patches, max_drop=-1)


def test_conv_macs_count_each_conv():
    macs = auto_plan.conv_macs(tiny_net(SCALE, outlier=True), torch.rand(1, 3, 4, 5))
    assert macs == {"0": 20 * 8 * 3 * 9, "2": 20 * 8 * 8 * 9, "4": 20 * 12 * 8 * 9}
