"""The Reparameterizable protocol, deploy() and the plain-network check, on a small RepVGG-style block."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sr_reparam import Reparameterizable, assert_plain, deploy, is_plain, plain_violations
from sr_reparam.kernels import fold_batchnorm, fold_residual, sum_branches


class RepBlock(nn.Module):
    """3x3 conv + BN, 1x1 conv, identity; ReLU. Counts forward calls to prove deploy drops it."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv3 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, channels, 1)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv3(x)) + self.conv1(x) + x)

    def reparameterize(self) -> nn.Module:
        bn = self.bn
        branch3 = fold_batchnorm(
            self.conv3.weight, None, bn.running_mean, bn.running_var, bn.weight, bn.bias, bn.eps
        )
        weight, bias = fold_residual(*sum_branches(branch3, (self.conv1.weight, self.conv1.bias)))
        conv = nn.Conv2d(weight.shape[1], weight.shape[0], 3, padding=1).to(weight)
        with torch.no_grad():
            conv.weight.copy_(weight)
            conv.bias.copy_(bias)
        return nn.Sequential(conv, nn.ReLU())


def make_net() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.Sequential(RepBlock(4), RepBlock(4)), nn.PixelShuffle(2)
    )
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.normal_()
            module.running_var.uniform_(0.5, 2)
            nn.init.normal_(module.weight)
            nn.init.normal_(module.bias)
    return net.double().eval()


def test_protocol_is_structural():
    assert isinstance(RepBlock(2), Reparameterizable)
    assert not isinstance(nn.Conv2d(2, 2, 3), Reparameterizable)


def test_deploy_copies_replaces_and_matches():
    net = make_net()
    x = torch.rand(2, 3, 9, 7, dtype=torch.float64)
    deployed = deploy(net.train())
    assert deployed is not net and isinstance(net[1][0], RepBlock)
    assert net.training and not any(m.training for m in deployed.modules())
    assert_plain(deployed)
    net.eval()
    torch.testing.assert_close(deployed(x), net(x), atol=1e-9, rtol=0)


def test_deploy_inplace_and_top_level_module():
    net = make_net()
    assert deploy(net, inplace=True) is net and is_plain(net)
    block = RepBlock(3).double().eval()
    assert is_plain(deploy(block))


def test_plain_violations_name_the_layer():
    problems = plain_violations(make_net())
    assert any("1.0" in p and "reparameterize" in p for p in problems)
    assert not is_plain(nn.Sequential(nn.Conv2d(1, 1, 3), nn.BatchNorm2d(1)))
    with pytest.raises(AssertionError, match="BatchNorm2d"):
        assert_plain(nn.Sequential(nn.Conv2d(1, 1, 3), nn.BatchNorm2d(1)))
