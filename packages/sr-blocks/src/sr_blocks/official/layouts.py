"""The official checkpoint layouts, recognised by their tensor names, and where each tensor goes.

A layout is recognised by names only its files have (``IMDB1.c1.weight``, ``B1.c1_d.weight``,
``SFENet1.weight``, ...), then every tensor of the file is renamed by rules on its name and on the
file's structure (which block of how many, the last conv of a sequence), never by its position in
the file: RFDN's ESA, for one, registers its convs in another order than their use. A layout also
says what the file seems to hold (model, scale, widths: read from the tensor shapes) and the pixel
range its network was trained on. Fixed tensors that ours do not store (EDSR-PyTorch's identity
mean-shift kernels, ECBSR's Sobel/Laplacian masks) are checked against the values the official
code writes and then dropped.

| layout | recognised by | pixel range |
|---|---|---|
| Zheng222/IMDN `IMDN`, `IMDN_AS` | ``IMDB1.c1.weight``, ``fea_conv.weight`` / ``fea_conv.0.weight`` | 1 |
| Zheng222/IMDN `IMDN_RTC` | ``model.1.sub.0.c1.weight`` | 1 |
| njulj/RFDN `RFDN` | ``B1.c1_d.weight`` | 255 (its test code's input) |
| EDSR-PyTorch `EDSR`, EDSR-baseline | ``head.0.weight``, ``body.0.body.0.weight`` | ``sub_mean.bias`` tells |
| EDSR-PyTorch `RDN` | ``SFENet1.weight`` | 255 (its default ``--rgb_range``) |
| BasicSR `EDSR` | ``conv_first`` ... ``conv_last``, no ``sub_mean.mean`` | 255 (``img_range``) |
| xindongzhang/ECBSR, BasicSR `ECBSR` | ``backbone.0.conv3x3.weight`` | 255 bare, 1 in ``params`` |
| sr_blocks' own (sr_train checkpoints, plain state dicts) | anything else | 1 |
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from sr_blocks.layers import DIV2K_RGB_MEAN
from sr_blocks.official.files import BASICSR_KEYS, WeightsFile
from sr_reparam.kernels import fixed_filter

Rule = tuple[str, Callable[[re.Match], str]]
PARAM = r"(weight|bias)"


@dataclass(frozen=True)
class Placement:
    """One tensor of the file: its name there, where it goes in ours (None: nowhere), its value
    shaped as ours."""

    key: str
    target: str | None
    value: torch.Tensor


@dataclass(frozen=True)
class Conversion:
    """A file read in one layout: where its tensors go (values still in the file's pixel range), what
    it seems to hold, the pixel range its network was trained on (255: it saw [0, 255] images), and
    tensors of ours the layout implies (in our [0, 1] range)."""

    layout: str
    holds: str
    placements: list[Placement]
    value_range: float = 1.0
    implied: dict[str, torch.Tensor] = field(default_factory=dict)
    #: (first conv, last conv) of ours, when the image enters only through the first and leaves only
    #: through the last (a pixel shuffle after it at most): the pixel range is then folded into those
    #: two (exact for any network); otherwise into every bias (exact for positively homogeneous ones).
    ends: tuple[str, str] | None = None
    #: The registry entry, scale and keyword arguments the file seems to hold, where its tensors tell
    #: (None: they do not, e.g. IMDN_AS's scale, which any output size fits, or an unusual width).
    model: str | None = None
    scale: int | None = None
    model_kwargs: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    """An official layout: its name, the test on a file's tensor names that recognises it, its converter."""

    name: str
    recognise: Callable[[WeightsFile], bool]
    convert: Callable[[WeightsFile], Conversion]


def _rename(key: str, rules: Sequence[Rule]) -> str | None:
    for pattern, target in rules:
        match = re.fullmatch(pattern, key)
        if match:
            return target(match)
    return None


def _placements(weights: WeightsFile, rules: Sequence[Rule]) -> list[Placement]:
    return [Placement(key, _rename(key, rules), value) for key, value in weights.state.items()]


def _indices(state: dict[str, torch.Tensor], pattern: str) -> list[int]:
    """The distinct integers captured by ``pattern`` (one group) over the state's keys, sorted."""
    found = {int(m.group(1)) for key in state if (m := re.fullmatch(pattern, key))}
    return sorted(found)


def _out_channels(state: dict[str, torch.Tensor], key: str) -> int | None:
    tensor = state.get(key)
    return int(tensor.shape[0]) if tensor is not None and tensor.dim() else None


def _in_channels(state: dict[str, torch.Tensor], key: str) -> int | None:
    tensor = state.get(key)
    return int(tensor.shape[1]) if tensor is not None and tensor.dim() > 1 else None


def _shuffle_scale(out_channels: int | None, colors: int | None) -> str:
    """The pixel-shuffle factor r of a conv to colors * r^2 channels, as text ('?' when none fits)."""
    if not out_channels or not colors:
        return "?"
    r = math.isqrt(out_channels // colors)
    return str(r) if r * r * colors == out_channels else "?"


def _colors(colors: int | None) -> str:
    return "" if colors in (3, None) else f", in_channels=out_channels={colors}"


def _color_kwargs(colors: int | None) -> dict[str, int]:
    """The registry keyword arguments of a network with ``colors`` input and output channels."""
    return {} if colors in (3, None) else {"in_channels": colors, "out_channels": colors}


def _scale_number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _check_constant(weights: WeightsFile, key: str, expected: torch.Tensor, what: str) -> None:
    value = weights.state[key]
    if value.shape != expected.shape or not torch.allclose(value.float(), expected, atol=1e-6):
        raise ValueError(
            f"{weights.path}: tensor {weights.file_key(key)!r} is not {what} that the official code "
            "writes there; this file cannot be converted"
        )


# --- Zheng222/IMDN: IMDN, IMDN_AS -------------------------------------------------------------------


#: IMDModule names inside ``IMDB<N>.`` -> our IMDB's in ``body.blocks.<N-1>.``.
_IMDB_RULES: list[Rule] = [
    (rf"IMDB(\d+)\.c([1-4])\.{PARAM}", lambda m: f"body.blocks.{int(m[1]) - 1}.conv{m[2]}.{m[3]}"),
    (rf"IMDB(\d+)\.c5\.{PARAM}", lambda m: f"body.blocks.{int(m[1]) - 1}.fuse.{m[2]}"),
    (
        rf"IMDB(\d+)\.cca\.conv_du\.([02])\.{PARAM}",
        lambda m: f"body.blocks.{int(m[1]) - 1}.cca.excite.{m[2]}.{m[3]}",
    ),
]


#: The frame IMDN and RFDN share: fusion of all blocks, the conv after it, the pixel-shuffle head.
_FRAME_RULES: list[Rule] = [
    (rf"fea_conv\.{PARAM}", lambda m: f"conv_first.{m[1]}"),
    (rf"fea_conv\.(\d+)\.{PARAM}", lambda m: f"conv_first.{int(m[1])}.{m[2]}"),
    (rf"c\.0\.{PARAM}", lambda m: f"body.fuse.{m[1]}"),
    (rf"LR_conv\.{PARAM}", lambda m: f"body.conv_after_body.{m[1]}"),
    (rf"upsampler\.0\.{PARAM}", lambda m: f"upsample.0.{m[1]}"),
]


def _imdn(weights: WeightsFile) -> Conversion:
    state = weights.state
    arbitrary = "fea_conv.0.weight" in state
    first = "fea_conv.0.weight" if arbitrary else "fea_conv.weight"
    colors, width = _in_channels(state, first), _out_channels(state, first)
    blocks = len(_indices(state, r"IMDB(\d+)\.c1\.weight"))
    size = f"{width} channels, {blocks} blocks{_colors(colors)}"
    if arbitrary:
        model, scale = "imdn_as", "?"
        holds = f"imdn_as (Zheng222/IMDN IMDN_AS, any scale: {size})"
    else:
        model, scale = "imdn", _shuffle_scale(_out_channels(state, "upsampler.0.weight"), colors)
        holds = f"imdn x{scale} (Zheng222/IMDN IMDN: {size})"
    rules = _FRAME_RULES + _IMDB_RULES
    ends = ("conv_first.0" if arbitrary else "conv_first", "upsample.0")
    return Conversion(
        "Zheng222/IMDN IMDN",
        holds,
        _placements(weights, rules),
        ends=ends,
        model=model,
        scale=_scale_number(scale),
        model_kwargs=_color_kwargs(colors),
    )


# --- Zheng222/IMDN: IMDN_RTC ------------------------------------------------------------------------


def _imdn_rtc(weights: WeightsFile) -> Conversion:
    state = weights.state
    colors, width = _in_channels(state, "model.0.weight"), _out_channels(state, "model.0.weight")
    blocks = _indices(state, r"model\.1\.sub\.(\d+)\.c1\.weight")
    last = len(blocks)  # ShortcutBlock(sequential(*blocks, LR_conv)): the 1x1 conv comes after the blocks
    scale = _shuffle_scale(_out_channels(state, "model.2.weight"), colors)
    holds = (
        f"imdn_rtc x{scale} (Zheng222/IMDN IMDN_RTC: {width} channels, {len(blocks)} blocks{_colors(colors)})"
    )
    sub = r"model\.1\.sub\."
    rules: list[Rule] = [
        (rf"model\.0\.{PARAM}", lambda m: f"conv_first.{m[1]}"),
        (sub + rf"(\d+)\.c([1-4])\.{PARAM}", lambda m: f"body.{int(m[1])}.conv{m[2]}.{m[3]}"),
        (sub + rf"(\d+)\.c5\.{PARAM}", lambda m: f"body.{int(m[1])}.fuse.{m[2]}"),
        (sub + rf"{last}\.{PARAM}", lambda m: f"conv_after_body.{m[1]}"),
        (rf"model\.2\.{PARAM}", lambda m: f"upsample.0.{m[1]}"),
    ]
    ends = ("conv_first", "upsample.0")
    return Conversion(
        "Zheng222/IMDN IMDN_RTC",
        holds,
        _placements(weights, rules),
        ends=ends,
        model="imdn_rtc",
        scale=_scale_number(scale),
        model_kwargs=_color_kwargs(colors),
    )


# --- njulj/RFDN -------------------------------------------------------------------------------------

#: ESA's official conv names -> ours, by the role each plays in ESA.forward.
_ESA_NAMES = {
    "conv1": "reduce",
    "conv_f": "conv_skip",
    "conv_max": "conv_pooled",
    "conv2": "down",
    "conv3": "conv_low1",
    "conv3_": "conv_low2",
    "conv4": "expand",
}


def _rfdn(weights: WeightsFile) -> Conversion:
    state = weights.state
    colors, width = _in_channels(state, "fea_conv.weight"), _out_channels(state, "fea_conv.weight")
    blocks = len(_indices(state, r"B(\d+)\.c1_d\.weight"))
    scale = _shuffle_scale(_out_channels(state, "upsampler.0.weight"), colors)
    holds = f"rfdn x{scale} (njulj/RFDN: {width} channels, {blocks} blocks, [0, 255]{_colors(colors)})"
    here = r"B(\d+)\."
    esa = "|".join(re.escape(name) for name in _ESA_NAMES)
    rules = _FRAME_RULES + [
        (
            here + rf"c([123])_d\.{PARAM}",
            lambda m: f"body.blocks.{int(m[1]) - 1}.distill.{int(m[2]) - 1}.{m[3]}",
        ),
        (
            here + rf"c([123])_r\.{PARAM}",
            lambda m: f"body.blocks.{int(m[1]) - 1}.refine.{int(m[2]) - 1}.{m[3]}",
        ),
        (here + rf"c4\.{PARAM}", lambda m: f"body.blocks.{int(m[1]) - 1}.conv_last.{m[2]}"),
        (here + rf"c5\.{PARAM}", lambda m: f"body.blocks.{int(m[1]) - 1}.fuse.{m[2]}"),
        (
            here + rf"esa\.({esa})\.{PARAM}",
            lambda m: f"body.blocks.{int(m[1]) - 1}.esa.{_ESA_NAMES[m[2]]}.{m[3]}",
        ),
    ]
    # The official test code feeds [0, 255] images (uint2tensor4 divides by 1.0): trained that way in
    # the EDSR-PyTorch framework. ESA's sigmoid is not homogeneous, so the range goes to the ends.
    ends = ("conv_first", "upsample.0")
    return Conversion(
        "njulj/RFDN RFDN",
        holds,
        _placements(weights, rules),
        255.0,
        ends=ends,
        model="rfdn",
        scale=_scale_number(scale),
        model_kwargs=_color_kwargs(colors),
    )


# --- EDSR: EDSR-PyTorch and BasicSR -----------------------------------------------------------------


_EDSR_PRESETS = {(64, 16): "edsr_baseline", (256, 32): "edsr"}


def _edsr_name(width: int | None, blocks: int) -> str:
    return _EDSR_PRESETS.get((width, blocks), f"edsr_baseline with num_feat={width}, num_block={blocks}")


def _stage_scale(state: dict[str, torch.Tensor], template: str, width: int | None) -> str:
    """The scale of an EDSR-style upsampler whose convs are named ``template.format(index)``: one
    conv to 9*width channels (x3) or n convs to 4*width (x2^n)."""
    stages = _indices(state, re.escape(template).replace(r"\{\}", r"(\d+)"))
    if not stages or not width:
        return "?"
    first_out = _out_channels(state, template.format(stages[0]))
    if len(stages) == 1 and first_out == 9 * width:
        return "3"
    return str(2 ** len(stages)) if first_out == 4 * width else "?"


def _edsr_pytorch(weights: WeightsFile) -> Conversion:
    state = weights.state
    colors, width = _in_channels(state, "head.0.weight"), _out_channels(state, "head.0.weight")
    blocks = _indices(state, r"body\.(\d+)\.body\.0\.weight")
    shift = state.get("sub_mean.bias")
    value_range = 255.0 if shift is not None and shift.abs().max() > 1 else 1.0
    scale = _stage_scale(state, "tail.0.{}.weight", width)
    holds = (
        f"{_edsr_name(width, len(blocks))} x{scale} (EDSR-PyTorch EDSR, rgb_range {value_range:g}"
        f"{_colors(colors)})"
    )
    last = len(blocks)  # the conv after the residual blocks is body.<number of blocks>
    rules: list[Rule] = [
        (rf"head\.0\.{PARAM}", lambda m: f"conv_first.{m[1]}"),
        (rf"body\.(\d+)\.body\.0\.{PARAM}", lambda m: f"body.{int(m[1])}.conv1.{m[2]}"),
        (rf"body\.(\d+)\.body\.2\.{PARAM}", lambda m: f"body.{int(m[1])}.conv2.{m[2]}"),
        (rf"body\.{last}\.{PARAM}", lambda m: f"conv_after_body.{m[1]}"),
        (rf"tail\.0\.(\d+)\.{PARAM}", lambda m: f"upsample.{int(m[1])}.{m[2]}"),
        (rf"tail\.1\.{PARAM}", lambda m: f"conv_last.{m[1]}"),
    ]
    placements = []
    for key, value in state.items():
        shift_of = re.fullmatch(r"(sub_mean|add_mean)\.(weight|bias)", key)
        if shift_of is None:
            placements.append(Placement(key, _rename(key, rules), value))
        elif shift_of[2] == "weight":  # the identity kernel of MeanShift with std 1
            channels = value.shape[0]
            identity = torch.eye(channels).view(channels, channels, 1, 1)
            _check_constant(weights, key, identity, "the identity 1x1 kernel (rgb_std 1)")
        else:  # bias = sign * rgb_range * mean; the mean, still in rgb_range units (rescaled on loading)
            sign = -1.0 if shift_of[1] == "sub_mean" else 1.0
            placements.append(Placement(key, f"{shift_of[1]}.mean", (sign * value).view(1, -1, 1, 1)))
    return Conversion(
        "EDSR-PyTorch EDSR",
        holds,
        placements,
        value_range,
        model=_EDSR_PRESETS.get((width, len(blocks))),
        scale=_scale_number(scale),
        model_kwargs=_color_kwargs(colors),
    )


def _basicsr_edsr(weights: WeightsFile) -> Conversion:
    state = weights.state
    colors, width = _in_channels(state, "conv_first.weight"), _out_channels(state, "conv_first.weight")
    blocks = len(_indices(state, r"body\.(\d+)\.conv1\.weight"))
    scale = _stage_scale(state, "upsample.{}.weight", width)
    holds = f"{_edsr_name(width, blocks)} x{scale} (BasicSR EDSR, img_range 255 assumed{_colors(colors)})"
    rules: list[Rule] = [
        (rf"(conv_first|conv_after_body|conv_last)\.{PARAM}", lambda m: m[0]),
        (rf"body\.\d+\.conv[12]\.{PARAM}", lambda m: m[0]),
        (rf"upsample\.\d+\.{PARAM}", lambda m: m[0]),
    ]
    # BasicSR keeps its rgb_mean (default: DIV2K's) as a plain attribute, outside the state dict.
    mean = torch.tensor(DIV2K_RGB_MEAN).view(1, 3, 1, 1)
    implied = {"sub_mean.mean": mean, "add_mean.mean": mean.clone()}
    return Conversion(
        "BasicSR EDSR",
        holds,
        _placements(weights, rules),
        255.0,
        implied,
        model=_EDSR_PRESETS.get((width, blocks)),
        scale=_scale_number(scale),
        model_kwargs=_color_kwargs(colors),
    )


# --- EDSR-PyTorch RDN -------------------------------------------------------------------------------


def _rdn(weights: WeightsFile) -> Conversion:
    state = weights.state
    colors, width = _in_channels(state, "SFENet1.weight"), _out_channels(state, "SFENet1.weight")
    blocks = len(_indices(state, r"RDBs\.(\d+)\.LFF\.weight"))
    layers = len(_indices(state, r"RDBs\.0\.convs\.(\d+)\.conv\.0\.weight"))
    growth = _out_channels(state, "RDBs.0.convs.0.conv.0.weight")
    up = _indices(state, r"UPNet\.(\d+)\.weight")
    last = up[-1] if up else -1
    if len(up) == 3:
        scale = "4"
    else:
        scale = _shuffle_scale(_out_channels(state, "UPNet.0.weight"), growth)
    name = "rdn" if (blocks, layers, growth, width) == (16, 8, 64, 64) else "rdn with other D, C, G"
    holds = (
        f"{name} x{scale} (EDSR-PyTorch RDN: D={blocks}, C={layers}, G={growth}, G0={width}, "
        f"rgb_range 255 assumed{_colors(colors)})"
    )
    rules: list[Rule] = [
        (rf"SFENet1\.{PARAM}", lambda m: f"conv_first.{m[1]}"),
        (rf"SFENet2\.{PARAM}", lambda m: f"conv_shallow.{m[1]}"),
        (
            rf"RDBs\.(\d+)\.convs\.(\d+)\.conv\.0\.{PARAM}",
            lambda m: f"body.blocks.{int(m[1])}.layers.{int(m[2])}.conv.{m[3]}",
        ),
        (rf"RDBs\.(\d+)\.LFF\.{PARAM}", lambda m: f"body.blocks.{int(m[1])}.fuse.{m[2]}"),
        (rf"GFF\.0\.{PARAM}", lambda m: f"body.fuse.{m[1]}"),
        (rf"GFF\.1\.{PARAM}", lambda m: f"body.conv_after_body.{m[1]}"),
        (rf"UPNet\.{last}\.{PARAM}", lambda m: f"conv_last.{m[1]}"),
        (rf"UPNet\.(\d+)\.{PARAM}", lambda m: f"upsample.{int(m[1])}.{m[2]}"),
    ]
    return Conversion(
        "EDSR-PyTorch RDN",
        holds,
        _placements(weights, rules),
        255.0,
        model="rdn" if name == "rdn" else None,
        scale=_scale_number(scale),
        model_kwargs=_color_kwargs(colors),
    )


# --- ECBSR: xindongzhang/ECBSR and BasicSR ----------------------------------------------------------

_EDGE_FILTERS = {"sbx": "sobel_x", "sby": "sobel_y", "lpl": "laplacian"}
_ECB_RULES: list[Rule] = [
    (rf"conv3x3\.{PARAM}", lambda m: m[0]),
    (r"conv1x1_3x3\.k0", lambda m: "conv1x1_3x3.expand.weight"),
    (r"conv1x1_3x3\.b0", lambda m: "conv1x1_3x3.expand.bias"),
    (r"conv1x1_3x3\.k1", lambda m: "conv1x1_3x3.conv.weight"),
    (r"conv1x1_3x3\.b1", lambda m: "conv1x1_3x3.conv.bias"),
    (r"(conv1x1_(?:sbx|sby|lpl))\.k0", lambda m: f"{m[1]}.pointwise.weight"),
    (r"(conv1x1_(?:sbx|sby|lpl))\.b0", lambda m: f"{m[1]}.pointwise.bias"),
    (r"(conv1x1_(?:sbx|sby|lpl))\.(scale|bias)", lambda m: m[0]),
    (r"act\.weight", lambda m: m[0]),
]


def _ecbsr(weights: WeightsFile) -> Conversion:
    state = weights.state
    basicsr = weights.wrapper in BASICSR_KEYS
    ecbs = _indices(state, r"backbone\.(\d+)\.conv3x3\.weight")
    last = ecbs[-1] if ecbs else 0
    colors = _in_channels(state, "backbone.0.conv3x3.weight")
    width = _out_channels(state, "backbone.0.conv3x3.weight")
    scale = _shuffle_scale(_out_channels(state, f"backbone.{last}.conv3x3.weight"), colors)
    source = "BasicSR ECBSR, [0, 1]" if basicsr else "xindongzhang/ECBSR, [0, 255]"
    holds = f"ecbsr_m{last - 1}c{width} x{scale} ({source}{_colors(colors)})"
    placements = []
    for key, value in state.items():
        match = re.fullmatch(r"backbone\.(\d+)\.(.+)", key)
        if match is None:
            placements.append(Placement(key, None, value))
            continue
        index, inner = int(match[1]), match[2]
        mask = re.fullmatch(r"conv1x1_(sbx|sby|lpl)\.mask", inner)
        if mask:
            expected = fixed_filter(_EDGE_FILTERS[mask[1]]).expand(value.shape[0], 1, 3, 3)
            _check_constant(weights, key, expected, f"the fixed {_EDGE_FILTERS[mask[1]]} mask")
            continue
        ours = _rename(inner, _ECB_RULES)
        module = "head" if index == 0 else "tail" if index == last else f"body.{index - 1}"
        if ours and inner.endswith(".scale") and value.dim() == 4:  # (C, 1, 1, 1) there, (C,) here
            value = value.reshape(-1)
        placements.append(Placement(key, f"{module}.{ours}" if ours else None, value))
    return Conversion(
        source.split(",")[0],
        holds,
        placements,
        1.0 if basicsr else 255.0,
        model=f"ecbsr_m{last - 1}c{width}",
        scale=_scale_number(scale),
        model_kwargs=_color_kwargs(colors),
    )


# --- sr_blocks' own names ---------------------------------------------------------------------------


def _own(weights: WeightsFile) -> Conversion:
    ckpt = weights.checkpoint
    if ckpt.get("model_name"):
        kwargs = ", ".join(f"{k}={v!r}" for k, v in (ckpt.get("model_kwargs") or {}).items())
        holds = (
            f"{ckpt['model_name']} x{ckpt.get('scale', '?')}{f' ({kwargs})' if kwargs else ''}"
            f"{', deployed' if ckpt.get('deployed') else ''} (an sr_toolkit checkpoint)"
        )
    else:
        holds = "tensors in no official layout sr_blocks knows (read as sr_blocks' own names)"
    placements = [Placement(key, key, value) for key, value in weights.state.items()]
    scale = ckpt.get("scale")
    return Conversion(
        "sr_blocks",
        holds,
        placements,
        model=ckpt.get("model_name") or None,
        scale=scale if isinstance(scale, int) else None,
        model_kwargs=dict(ckpt.get("model_kwargs") or {}),
    )


#: BasicSR's EDSR uses sr_blocks' vocabulary; only the missing mean shift (and the wrapper) tells them apart.
_BASICSR_EDSR_KEYS = {
    "conv_first.weight",
    "body.0.conv1.weight",
    "conv_after_body.weight",
    "upsample.0.weight",
    "conv_last.weight",
}

LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "Zheng222/IMDN IMDN / IMDN_AS",
        lambda w: (
            "IMDB1.c1.weight" in w.state and ("fea_conv.weight" in w.state or "fea_conv.0.weight" in w.state)
        ),
        _imdn,
    ),
    Layout("Zheng222/IMDN IMDN_RTC", lambda w: "model.1.sub.0.c1.weight" in w.state, _imdn_rtc),
    Layout("njulj/RFDN", lambda w: "B1.c1_d.weight" in w.state, _rfdn),
    Layout(
        "EDSR-PyTorch EDSR",
        lambda w: "head.0.weight" in w.state and "body.0.body.0.weight" in w.state,
        _edsr_pytorch,
    ),
    Layout("EDSR-PyTorch RDN", lambda w: "SFENet1.weight" in w.state, _rdn),
    Layout(
        "BasicSR EDSR",
        lambda w: _BASICSR_EDSR_KEYS <= set(w.state) and "sub_mean.mean" not in w.state,
        _basicsr_edsr,
    ),
    Layout("ECBSR (xindongzhang/ECBSR, BasicSR)", lambda w: "backbone.0.conv3x3.weight" in w.state, _ecbsr),
)


def convert(weights: WeightsFile) -> Conversion:
    """The file read in the first layout that recognises it, else in sr_blocks' own names."""
    for layout in LAYOUTS:
        if layout.recognise(weights):
            return layout.convert(weights)
    return _own(weights)
