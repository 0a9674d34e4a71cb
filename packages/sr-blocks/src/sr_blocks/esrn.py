"""ESRN: the searched networks of ESR_EA, "Efficient Residual Dense Block Search for Image
Super-Resolution" (Song et al., AAAI 2020), built from gene strings.

A gene `T_C_G_O` is one efficient residual dense block: type T (S shrink, G group, C contextual),
C 3x3 convolutions, growth rate G, O output channels. Every block first maps its input to G
channels with a 1x1 conv (unless it already has G), and adds a skip: the input itself when
O equals the input width, the 1x1-projected input when O equals G, else a 1x1 projection of the
input to O. The blocks sit in RDN's frame (`sr_blocks.rdn.ResidualDenseFrame`) with G0 features.

Follows huawei-noah/vega (`vega/networks/erdb_esr.py`), whose convolutions have no bias by default,
and goes beyond it where it breaks: x3 works (vega's x3 upsampler has mismatched widths; here x2 and
x3 both shuffle to 3*G0/4 channels), and contextual blocks accept odd sizes (the half-resolution
branch pads the bottom/right edge by replication before pooling and crops after the shuffle).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sr_blocks.layers import conv2d, upsample_stages
from sr_blocks.rdn import ResidualDenseFrame
from sr_blocks.registry import register_model

BLOCK_TYPES = {"S": "shrink", "G": "group", "C": "contextual"}


@dataclass(frozen=True)
class Gene:
    """One block of an ESRN: type ('S', 'G' or 'C'), 3x3 conv count, growth rate, output channels."""

    kind: str
    convs: int
    growth: int
    out: int

    def __str__(self) -> str:
        return format_gene(self)


def group_conv_groups(layer: int) -> int:
    """Groups of the grouped 3x3 conv in dense layer `layer` (0-based): 1, 2, 2, 4, 4, 4, ..."""
    return min(4, 1 << ((layer + 1).bit_length() - 1))


def parse_gene(text: str) -> Gene:
    """Parse 'T_C_G_O' (e.g. 'G_8_16_24') into a Gene; anything malformed is a ValueError saying why."""
    if not isinstance(text, str):
        raise ValueError(f"gene {text!r}: expected a string like 'G_8_16_24'")
    fields = text.strip().split("_")
    if len(fields) != 4:
        raise ValueError(f"gene {text!r}: expected 4 fields type_convs_growth_out, got {len(fields)}")
    kind, *numbers = fields
    if kind not in BLOCK_TYPES:
        raise ValueError(f"gene {text!r}: block type {kind!r} is not one of {', '.join(BLOCK_TYPES)}")
    values = []
    for field_name, value in zip(("convs", "growth", "out"), numbers, strict=True):
        if not (value.isascii() and value.isdigit()) or int(value) == 0:
            raise ValueError(f"gene {text!r}: {field_name} must be a positive integer, got {value!r}")
        values.append(int(value))
    gene = Gene(kind, *values)
    _check_gene(gene, text)
    return gene


def _check_gene(gene: Gene, text: str) -> None:
    if gene.kind == "G":
        groups = group_conv_groups(gene.convs - 1)
        if gene.growth % groups:
            raise ValueError(
                f"gene {text!r}: a group block with {gene.convs} convs uses {groups} conv groups, "
                f"so its growth rate must be a multiple of {groups}"
            )
    if gene.kind == "C" and ((gene.convs + 1) * gene.growth) % 4:
        raise ValueError(
            f"gene {text!r}: a contextual block pixel-shuffles (convs+1)*growth = "
            f"{(gene.convs + 1) * gene.growth} channels by 2, which must be a multiple of 4"
        )


def format_gene(gene: Gene) -> str:
    """The text form of `gene`; `parse_gene(format_gene(g)) == g`."""
    return f"{gene.kind}_{gene.convs}_{gene.growth}_{gene.out}"


def _checked(gene: Gene | str) -> Gene:
    """A Gene from text, or a Gene built directly, held to the same rules as parsed text."""
    return parse_gene(format_gene(gene) if isinstance(gene, Gene) else gene)


def parse_genes(genes: str | Iterable[str | Gene]) -> list[Gene]:
    """A gene list from strings/Genes, or from text: "['S_4_16_32', 'C_8_16_16']" or "S_4_16_32 C_8_16_16"."""
    if isinstance(genes, str):
        text = genes.strip()
        if text.startswith("["):
            try:
                genes = ast.literal_eval(text)
            except (ValueError, SyntaxError) as err:
                raise ValueError(f"gene list {text!r} is not a list of quoted genes: {err}") from None
        else:
            genes = text.replace(",", " ").split()
    parsed = [_checked(g) for g in genes]
    if not parsed:
        raise ValueError("an ESRN needs at least one gene")
    return parsed


class EfficientRDB(nn.Module):
    """Input projection and skip shared by the three block types; subclasses define `transform`."""

    def __init__(self, in_channels: int, out_channels: int, growth: int, bias: bool) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.growth = in_channels, out_channels, growth
        self.conv_in = conv2d(in_channels, growth, 1, bias=bias) if in_channels != growth else nn.Identity()
        needs_skip_conv = out_channels not in (growth, in_channels)
        self.conv_skip = conv2d(in_channels, out_channels, 1, bias=bias) if needs_skip_conv else None

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        projected = self.conv_in(x)
        if self.out_channels == self.in_channels:
            skip = x
        elif self.out_channels == self.growth:
            skip = projected
        else:
            skip = self.conv_skip(x)
        return skip + self.transform(projected)


def _conv_relu(channels: int, bias: bool, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(conv2d(channels, channels, bias=bias, groups=groups), nn.ReLU(inplace=True))


def _shrink_convs(growth: int, convs: int, last_in: int, out_channels: int, bias: bool) -> nn.ModuleList:
    """1x1 convs squeezing the growing concat ((2+i)*growth channels) back to growth; the last to out."""
    widths = [(2 + i) * growth for i in range(convs - 1)]
    shrinks = [conv2d(w, growth, 1, bias=bias) for w in widths]
    return nn.ModuleList([*shrinks, conv2d(last_in, out_channels, 1, bias=bias)])


class ShrinkRDB(EfficientRDB):
    """S block: each 3x3 conv (G->G) reads the previous 1x1 squeeze of everything so far."""

    def __init__(self, in_channels: int, out_channels: int, growth: int, convs: int, bias: bool = False):
        super().__init__(in_channels, out_channels, growth, bias)
        self.convs = nn.ModuleList(_conv_relu(growth, bias) for _ in range(convs))
        self.shrinks = _shrink_convs(growth, convs, (convs + 1) * growth, out_channels, bias)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        concat, current = x, x
        for conv, shrink in zip(self.convs, self.shrinks, strict=True):
            concat = torch.cat([concat, conv(current)], dim=1)
            current = shrink(concat)
        return current


class ShuffledGroupDenseLayer(nn.Module):
    """Channel shuffle of the features so far, grouped 3x3 conv + ReLU to `growth` new channels.

    The shuffle of the stacked features ``[f0 | f1 | ... | fk]`` (k+1 groups of `growth` channels)
    interleaves them channel by channel, which is what stacking the list along a new axis 2 lays
    out: one copy straight from the list, where concatenating and then shuffling copies twice.
    """

    def __init__(self, in_channels: int, growth: int, shuffle_groups: int, conv_groups: int, bias: bool):
        super().__init__()
        self.shuffle_groups = shuffle_groups
        self.conv = conv2d(in_channels, growth, bias=bias, groups=conv_groups)
        self.act = nn.ReLU(inplace=True)

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(features) != self.shuffle_groups:
            raise ValueError(f"expected {self.shuffle_groups} feature maps, got {len(features)}")
        shuffled = features[0] if len(features) == 1 else torch.stack(list(features), dim=2).flatten(1, 2)
        return self.act(self.conv(shuffled))


class GroupRDB(EfficientRDB):
    """G block: dense layers with grouped convs (groups 1, 2, 2, 4, 4, ...) after a channel shuffle."""

    def __init__(self, in_channels: int, out_channels: int, growth: int, convs: int, bias: bool = False):
        super().__init__(in_channels, out_channels, growth, bias)
        self.layers = nn.ModuleList(
            ShuffledGroupDenseLayer((i + 1) * growth, growth, i + 1, group_conv_groups(i), bias)
            for i in range(convs)
        )
        self.fuse = conv2d((convs + 1) * growth, out_channels, 1, bias=bias)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.layers:
            features.append(layer(features))
        return self.fuse(torch.cat(features, dim=1))


class ContextualRDB(EfficientRDB):
    """C block: a shrink block at half resolution whose every 3x3 conv is applied three times.

    Average-pools by 2, runs the convs and squeezes there, pixel-shuffles the final concat back up
    ((convs+1)*growth/4 channels) and squeezes it to the output width with a 1x1 conv.
    """

    def __init__(self, in_channels: int, out_channels: int, growth: int, convs: int, bias: bool = False):
        super().__init__(in_channels, out_channels, growth, bias)
        self.convs = nn.ModuleList(_conv_relu(growth, bias) for _ in range(convs))
        self.shrinks = _shrink_convs(growth, convs, (convs + 1) * growth // 4, out_channels, bias)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        # One replicated row/column at the bottom/right: pooling (floor) ignores it on even sizes
        # and uses it on odd ones, so no size-dependent branch (a traced ONNX graph stays valid).
        current = F.avg_pool2d(F.pad(x, (0, 1, 0, 1), mode="replicate"), 2)
        concat = current
        for i, conv in enumerate(self.convs):
            concat = torch.cat([concat, conv(conv(conv(current)))], dim=1)
            if i < len(self.convs) - 1:
                current = self.shrinks[i](concat)
        full = F.pixel_shuffle(concat, 2)[..., :height, :width]
        return self.shrinks[-1](full)


_BLOCK_CLASSES = {"S": ShrinkRDB, "G": GroupRDB, "C": ContextualRDB}


def block_from_gene(gene: Gene | str, in_channels: int, bias: bool = False) -> EfficientRDB:
    """The block that `gene` describes, reading `in_channels` channels."""
    gene = _checked(gene)
    return _BLOCK_CLASSES[gene.kind](in_channels, gene.out, gene.growth, gene.convs, bias=bias)


class ESRN(ResidualDenseFrame):
    """An ESR_EA network: the blocks of `genes` in RDN's frame with `G0` features.

    Args:
        scale: upscaling factor (2, 3 or 4).
        genes: gene strings ('G_8_16_24') or Genes, or one text holding the list.
        G0: width of the shallow features and of the global fusion.
        bias: whether the convolutions have biases (vega's ESRN has none).
        in_channels / out_channels: image channels.
    """

    def __init__(
        self,
        scale: int,
        genes: str | Sequence[str | Gene],
        G0: int = 32,  # the paper's name
        bias: bool = False,
        in_channels: int = 3,
        out_channels: int = 3,
    ) -> None:
        parsed = parse_genes(genes)
        single_stage = len(upsample_stages(scale)) == 1
        if single_stage and G0 % 4:
            raise ValueError(f"ESRN at x{scale} shuffles to 3*G0/4 channels, so G0 must be a multiple of 4")
        blocks, width = [], G0
        for gene in parsed:
            blocks.append(block_from_gene(gene, width, bias))
            width = gene.out
        super().__init__(
            scale,
            blocks,
            [gene.out for gene in parsed],
            in_channels=in_channels,
            out_channels=out_channels,
            num_feat=G0,
            upsample_width=3 * G0 // 4 if single_stage else G0,
            bias=bias,
        )
        self.genes = [format_gene(gene) for gene in parsed]


def _create_esrn(variant: str, scale: int, **kwargs) -> ESRN:
    return ESRN(scale=scale, **{**_CONFIGS[variant], **kwargs})


_CONFIGS = {
    # The searched x2 architecture shown in vega's ESR_EA documentation (docs/en/algorithms/esr_ea.md,
    # "an example of the searched"), the network of vega's ESR_EA documentation.
    "esrn": dict(
        genes=[
            "G_8_16_24",
            "C_8_16_16",
            "G_4_16_24",
            "G_8_16_16",
            "S_4_24_32",
            "C_8_16_48",
            "S_4_16_24",
            "G_6_16_24",
            "G_8_16_16",
            "C_8_16_24",
            "S_8_16_16",
            "S_8_16_24",
            "S_8_16_32",
            "S_6_16_16",
            "G_6_16_64",
            "G_8_16_16",
            "S_8_16_32",
        ],
        G0=32,
        bias=False,
    ),
}


@register_model
def esrn(scale: int = 2, **kwargs) -> ESRN:
    """ESRN from `genes` (default: the searched network of vega's ESR_EA documentation), G0=32, no bias."""
    return _create_esrn("esrn", scale, **kwargs)
