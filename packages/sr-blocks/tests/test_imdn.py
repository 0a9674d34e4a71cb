"""IMDN: official parameter counts, the IMDB and CCA, and adaptive cropping (ACS)."""

import pytest
import torch

from sr_blocks import create_model
from sr_blocks.imdn import IMDB, ContrastChannelAttention, adaptive_crop_forward

# Parameters of the official IMDN (Zheng222/IMDN, model/architecture.py class IMDN, nf=64,
# num_modules=6, in_nc=out_nc=3), obtained by instantiating it with upscale=2 and 4 and summing
# p.numel().
OFFICIAL_PARAMS = {
    ("imdn", 2): 694_404,
    ("imdn", 4): 715_176,
}


@pytest.mark.parametrize(("name", "scale"), sorted(OFFICIAL_PARAMS))
def test_parameter_counts_match_official(name, scale):
    assert (
        sum(p.numel() for p in create_model(name, scale=scale).parameters()) == OFFICIAL_PARAMS[name, scale]
    )


def test_contrast_attention_squeezes_by_std_plus_mean():
    cca = ContrastChannelAttention(32)
    cca.excite = torch.nn.Identity()  # expose the squeezed statistic
    x = torch.rand(2, 32, 5, 7)
    stat = x.std(dim=(2, 3), unbiased=False, keepdim=True) + x.mean(dim=(2, 3), keepdim=True)
    torch.testing.assert_close(cca(x), x * stat)


def test_imdb_distills_a_quarter_at_each_step():
    block = IMDB(64)
    assert (block.distilled, block.remaining) == (16, 48)
    assert [c.in_channels for c in (block.conv1, block.conv2, block.conv3, block.conv4)] == [64, 48, 48, 48]
    assert block.conv4.out_channels == 16 and block.fuse.in_channels == 64


def test_imdb_output_is_input_plus_fused_attention():
    block = IMDB(16)
    x = torch.rand(1, 16, 6, 5)
    captured = {}
    block.cca.register_forward_hook(lambda _m, _i, out: captured.update(out=out))
    with torch.no_grad():
        y = block(x)
        torch.testing.assert_close(y, x + block.fuse(captured["out"]))


class LocalNet(torch.nn.Module):
    """Two 3x3 convs and a pixel shuffle: a receptive field of 2 LR pixels, no global statistics."""

    def __init__(self, scale, multiple=1):
        super().__init__()
        self.multiple = multiple
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(8, 3 * scale**2, 3, padding=1),
            torch.nn.PixelShuffle(scale),
        )

    def forward(self, x):
        assert x.shape[-2] % self.multiple == 0 and x.shape[-1] % self.multiple == 0, x.shape
        return self.net(x)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize(("size", "multiple"), [((37, 45), 1), ((37, 45), 4), ((40, 52), 4), ((23, 30), 2)])
def test_acs_equals_whole_image_for_a_local_network(scale, size, multiple):
    model = LocalNet(scale, multiple).eval()
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        tiled = adaptive_crop_forward(model, x, scale, shave=8, multiple=multiple)
        whole = LocalNet.forward(model, x) if multiple == 1 else model.net(x)
    torch.testing.assert_close(tiled, whole, rtol=1e-5, atol=1e-6)


def test_acs_on_imdn_runs_on_odd_sizes_and_stays_close():
    torch.manual_seed(0)
    model = create_model("imdn", scale=2).eval()
    x = torch.rand(1, 3, 21, 27)
    with torch.no_grad():
        tiled = adaptive_crop_forward(model, x, 2, shave=8)
        whole = model(x)
    assert tiled.shape == whole.shape == (1, 3, 42, 54)
    # CCA pools over each tile, so IMDN's tiles see slightly different channel statistics.
    assert (tiled - whole).abs().mean() < 0.05 * whole.abs().mean()


def test_acs_rejects_images_too_small_for_the_multiple():
    with pytest.raises(ValueError, match="cannot cover a side of 5"):
        adaptive_crop_forward(LocalNet(2), torch.rand(1, 3, 5, 40), 2, shave=1, multiple=4)


def test_contrast_attention_equals_the_official_mean_plus_std_with_gradients():
    """The official std (root mean squared deviation) + mean, and its gradients."""
    torch.manual_seed(0)
    cca = ContrastChannelAttention(32).double()
    x = torch.rand(2, 32, 5, 7, dtype=torch.float64, requires_grad=True)

    def official(t: torch.Tensor) -> torch.Tensor:
        mean = t.mean(dim=(2, 3), keepdim=True)
        std = (t - mean).pow(2).sum(3, keepdim=True).sum(2, keepdim=True).div(t.shape[2] * t.shape[3]).sqrt()
        return t * cca.excite(std + mean)

    ours, reference = cca(x), official(x)
    torch.testing.assert_close(ours, reference, atol=1e-12, rtol=0)
    weights = torch.rand_like(ours)
    params = [x, *cca.parameters()]
    for got, want in zip(
        torch.autograd.grad((ours * weights).sum(), params),
        torch.autograd.grad((reference * weights).sum(), params),
        strict=True,
    ):
        torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
