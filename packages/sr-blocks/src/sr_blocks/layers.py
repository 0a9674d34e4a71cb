"""Building blocks shared by several model families.

Same-padding convolutions, the fixed mean shift of EDSR, pixel-shuffle upsamplers, channel shuffle,
the "run blocks, concatenate every output, fuse" body that RDN, ESRN, IMDN and RFDN all use, and
the cache that lets a re-parameterisable block (ECB, SESR's linear block) run its fused kernel in
eval mode, and `optimize_for_inference` (a model run in the channels-last layout).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

#: Per-channel mean of the DIV2K training images (RGB, range [0, 1]), as used by EDSR's MeanShift.
DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)


def conv2d(
    in_channels: int, out_channels: int, kernel_size: int = 3, *, bias: bool = True, groups: int = 1
) -> nn.Conv2d:
    """A stride-1 convolution whose output has the input's height and width (odd kernels)."""
    return nn.Conv2d(
        in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias, groups=groups
    )


def image_mean(channels: int) -> tuple[float, ...]:
    """The mean subtracted from `channels`-channel images in [0, 1] before a MeanShift network.

    Three channels: the DIV2K RGB mean. One channel: its luma as MATLAB's rgb2ycbcr computes Y
    (the Y-channel convention of SR papers), 0.4379. Any other count: the average of the RGB mean
    for every channel.
    """
    if channels == 3:
        return DIV2K_RGB_MEAN
    if channels == 1:
        r, g, b = DIV2K_RGB_MEAN
        return ((16.0 + 65.481 * r + 128.553 * g + 24.966 * b) / 255.0,)
    return (sum(DIV2K_RGB_MEAN) / 3.0,) * channels


class MeanShift(nn.Module):
    """Add (sign=+1) or subtract (sign=-1) a fixed per-channel mean.

    EDSR's MeanShift is a frozen 1x1 conv with identity weights (std 1) and the mean as bias; this
    is that map without the frozen conv, so it holds no parameters at all (the mean is a buffer).
    """

    def __init__(self, mean: Sequence[float], sign: int = -1) -> None:
        super().__init__()
        if sign not in (-1, 1):
            raise ValueError(f"MeanShift sign must be -1 or +1, got {sign!r}")
        self.sign = sign
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.sign * self.mean.to(x.dtype)

    @torch.no_grad()
    def reparameterize(self) -> nn.Conv2d:
        """The same map as a frozen 1x1 conv (identity weights, signed mean as bias), for deploy/ONNX."""
        channels = self.mean.shape[1]
        conv = nn.Conv2d(channels, channels, 1).to(self.mean)
        conv.weight.copy_(torch.eye(channels).view(channels, channels, 1, 1))
        conv.bias.copy_(self.sign * self.mean.flatten())
        conv.requires_grad_(False)
        return conv


def upsample_stages(scale: int) -> list[int]:
    """Pixel-shuffle factors that make up `scale`: powers of two in steps of 2, 3 in one step."""
    if scale >= 2 and scale & (scale - 1) == 0:
        return [2] * (scale.bit_length() - 1)
    if scale == 3:
        return [3]
    raise ValueError(f"pixel-shuffle upsampling supports scales 2, 3, 4, 8, ..., not {scale!r}")


class Upsampler(nn.Sequential):
    """EDSR/RDN-style upsampler: per stage a 3x3 conv to width*r^2 channels and PixelShuffle(r).

    The first stage reads `in_channels`, later stages `width`; the output has `width` channels.
    """

    def __init__(self, in_channels: int, width: int, scale: int, *, bias: bool = True) -> None:
        layers: list[nn.Module] = []
        channels = in_channels
        for r in upsample_stages(scale):
            layers += [conv2d(channels, width * r * r, 3, bias=bias), nn.PixelShuffle(r)]
            channels = width
        super().__init__(*layers)


class PixelShuffleHead(nn.Sequential):
    """One conv straight to out_channels*scale^2 followed by PixelShuffle(scale) (ESPCN, IMDN, RFDN)."""

    def __init__(self, in_channels: int, out_channels: int, scale: int, kernel_size: int = 3) -> None:
        conv = conv2d(in_channels, out_channels * scale * scale, kernel_size)
        super().__init__(conv, nn.PixelShuffle(scale))


def add_to_every_subpixel(y: torch.Tensor, x: torch.Tensor, scale: int) -> torch.Tensor:
    """``y + x.repeat_interleave(scale**2, dim=1)`` by broadcasting, without the repeated copy of `x`.

    `y` (N, C*scale^2, H, W) is a pixel-shuffle input; each channel of `x` (N, C, H, W) is added to the
    scale^2 sub-pixels of its colour (ECBSR's and SESR's global residual).
    """
    n, c, h, w = x.shape
    return (y.view(n, c, scale * scale, h, w) + x.unsqueeze(2)).reshape(y.shape)


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet's channel shuffle: view channels as (groups, C/groups), transpose, flatten."""
    n, c, h, w = x.shape
    if c % groups:
        raise ValueError(f"channel_shuffle: {c} channels do not split into {groups} groups")
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class FusedBlockChain(nn.Module):
    """Blocks applied one after another; all their outputs are concatenated and fused.

    Fusion is a 1x1 conv to `out_channels` (optionally followed by `act`) and a 3x3 conv, as in
    RDN's global feature fusion and IMDN/RFDN's aggregation. `block_channels` are the blocks'
    output widths, in order.
    """

    def __init__(
        self,
        blocks: Sequence[nn.Module],
        block_channels: Sequence[int],
        out_channels: int,
        *,
        act: nn.Module | None = None,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if len(blocks) != len(block_channels) or not blocks:
            raise ValueError(f"need one output width per block, got {len(blocks)} blocks, {block_channels}")
        self.blocks = nn.ModuleList(blocks)
        self.fuse = conv2d(sum(block_channels), out_channels, 1, bias=bias)
        self.act = act if act is not None else nn.Identity()
        self.conv_after_body = conv2d(out_channels, out_channels, 3, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = []
        for block in self.blocks:
            x = block(x)
            outputs.append(x)
        return self.conv_after_body(self.act(self.fuse(torch.cat(outputs, dim=1))))


#: How a re-parameterisable block (ECB, SESR's linear block) trains: "collapsed" runs the one conv its
#: branches sum to, with the fused kernel computed from the branch weights at every step (the same
#: function and the same gradients, far fewer convolutions); "expanded" runs every branch.
TRAINING_MODES = ("collapsed", "expanded")


def check_training_mode(mode: str) -> str:
    if mode not in TRAINING_MODES:
        raise ValueError(f"training_mode must be one of {TRAINING_MODES}, got {mode!r}")
    return mode


def training_mode_of(model: nn.Module, block_type: type) -> str:
    """The training mode shared by every `block_type` block in `model` ('deployed' when none is left)."""
    modes = {block.training_mode for block in model.modules() if isinstance(block, block_type)}
    if len(modes) > 1:
        return "mixed"
    return modes.pop() if modes else "deployed"


def set_training_mode(model: nn.Module, block_type: type, mode: str) -> None:
    """Switch every `block_type` block in `model` to `mode` ('collapsed' or 'expanded')."""
    check_training_mode(mode)
    for block in model.modules():
        if isinstance(block, block_type):
            block.training_mode = mode


def training_mode_property(block_type: type | tuple[type, ...]) -> property:
    """A model's `training_mode`: the mode of its `block_type` blocks ('deployed' once none is left,
    'mixed' when they differ); setting it switches them all."""
    return property(
        lambda model: training_mode_of(model, block_type),
        lambda model, mode: set_training_mode(model, block_type, mode),
        doc=training_mode_property.__doc__,
    )


class FusedKernelCache:
    """The fused ``(weight, bias)`` of a re-parameterisable block, kept until one of its parameters changes.

    A training-form block in eval mode (validation during training, a search scoring candidates)
    should cost what its deployed form costs: it fuses its branches once and reuses the result. The
    key is every parameter's storage address, version counter, dtype and device, so an optimiser
    step, ``load_state_dict``, an in-place write under ``torch.no_grad()`` or ``.to(...)`` all cause a
    new fusion. Writes through ``param.data`` bypass PyTorch's version counter: call :meth:`clear`
    after them. The cached tensors are computed without autograd; blocks use the cache only when no
    gradient is being recorded.
    """

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._value: tuple[torch.Tensor, torch.Tensor | None] | None = None

    @staticmethod
    def _key_of(parameters: Sequence[torch.Tensor]) -> tuple:
        return tuple((p.data_ptr(), p._version, p.dtype, p.device) for p in parameters)

    def get(
        self,
        parameters: Sequence[torch.Tensor],
        fuse: Callable[[], tuple[torch.Tensor, torch.Tensor | None]],
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``fuse()``'s result for the current values of ``parameters`` (computed at most once per change)."""
        key = self._key_of(parameters)
        if key != self._key or self._value is None:
            with torch.no_grad():
                self._value = fuse()
            self._key = key
        return self._value

    def clear(self) -> None:
        """Forget the cached kernel (needed only after writes through ``param.data``)."""
        self._key, self._value = None, None


def records_gradients(parameters: Sequence[torch.Tensor]) -> bool:
    """True when autograd is on and some parameter requires a gradient (then a fused kernel must be
    computed with autograd, not taken from a :class:`FusedKernelCache`)."""
    return torch.is_grad_enabled() and any(p.requires_grad for p in parameters)


def _input_to_channels_last(module: nn.Module, args: tuple) -> tuple:
    if args and isinstance(args[0], torch.Tensor) and args[0].dim() == 4:
        return (args[0].contiguous(memory_format=torch.channels_last), *args[1:])
    return args


def _output_to_contiguous(module: nn.Module, args: tuple, output: object) -> object:
    if isinstance(output, torch.Tensor) and output.dim() == 4:
        return output.contiguous()
    return output


def optimize_for_inference(model: nn.Module) -> nn.Module:
    """Run ``model`` in the channels-last (NHWC) layout: same weights, same maths, same state-dict keys.

    Converts the convolution weights in place and adds two hooks: the input is laid out channels-last
    on the way in and the output back to the usual contiguous layout on the way out. oneDNN's CPU
    convolutions then skip the layout conversions they do on NCHW tensors at every call. It pays where
    3x3 convolutions dominate (IMDN, EDSR: about 1.2x faster in eval on a 2-core CPU) and costs where
    many thin feature maps are concatenated and split along channels (ESRN: 0.8x); see the package
    README for the measured figures. Calling it again does nothing more. Returns ``model``.
    """
    model.to(memory_format=torch.channels_last)
    if not getattr(model, "_channels_last_hooks", False):
        model.register_forward_pre_hook(_input_to_channels_last)
        model.register_forward_hook(_output_to_contiguous)
        model._channels_last_hooks = True
    return model
