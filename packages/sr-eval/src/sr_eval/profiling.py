"""Parameter and MAC counts of a model, in the convention of the lightweight-SR papers.

MACs are counted by ``torch.utils.flop_counter.FlopCounterMode`` (one multiply-accumulate = two
FLOPs) for one forward pass that produces an ``hr_size`` output (1280x720 by default, as in the IMDN,
RFDN, ECBSR and ESR_EA papers). The counter covers convolutions, linear layers and matrix products;
element-wise work (activations, additions, pixel shuffle) is not counted, as in those papers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@dataclass(frozen=True)
class Profile:
    """Size and cost of a model for one forward pass.

    ``per_module`` maps dotted module names (as in ``named_modules``) to MACs; a parent's count
    includes its children's, and the whole model is ``macs``.
    """

    params: int
    macs: int
    lr_size: tuple[int, int]
    per_module: dict[str, int] = field(default_factory=dict)

    @property
    def gmacs(self) -> float:
        return self.macs / 1e9

    @property
    def kparams(self) -> float:
        return self.params / 1e3


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (shared parameters counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def declared_in_channels(model: nn.Module) -> int | None:
    """Input channels of a model: its ``in_channels`` attribute, else its first convolution's, else None."""
    declared = getattr(model, "in_channels", None)
    if isinstance(declared, int):
        return declared
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module.in_channels
    return None


def infer_in_channels(model: nn.Module) -> int:
    """Input channels of a model (``declared_in_channels``), 3 for one that does not say (bicubic)."""
    declared = declared_in_channels(model)
    return 3 if declared is None else declared


def _count_macs(model: nn.Module, lr: torch.Tensor) -> tuple[int, dict[str, int]]:
    root = type(model).__name__
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(lr)
    per_module: dict[str, int] = {}
    for name, by_op in counter.get_flop_counts().items():
        if name == "Global" or name == root:
            continue
        per_module[name.removeprefix(root + ".")] = sum(by_op.values()) // 2
    return counter.get_total_flops() // 2, per_module


def profile(
    model: nn.Module,
    *,
    scale: int,
    hr_size: tuple[int, int] = (720, 1280),
    lr_size: tuple[int, int] | None = None,
    in_channels: int | None = None,
    device: str | torch.device | None = None,
) -> Profile:
    """Count trainable parameters and the MACs of one forward pass producing ``hr_size``.

    The LR input is ``(hr_h // scale, hr_w // scale)`` (the papers' convention: MACs for a 1280x720
    output), or ``lr_size`` when given (then ``hr_size`` is ignored). By default the count runs on a
    copy of the model on the ``meta`` device (shapes only: no memory, no time); if an operation of
    the model has no meta implementation, it falls back to a copy on the model's own device. Pass
    ``device`` to choose explicitly. The model itself is never moved or changed.
    """
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    if lr_size is None:
        lr_size = (hr_size[0] // scale, hr_size[1] // scale)
    if min(lr_size) < 1:
        raise ValueError(f"LR size {lr_size} is empty: hr_size {hr_size} is smaller than the scale {scale}")
    channels = in_channels if in_channels is not None else infer_in_channels(model)

    first = next(model.parameters(), torch.empty(0))

    def run_on(target: torch.device) -> tuple[int, dict[str, int]]:
        clone = copy.deepcopy(model).to(target).eval()
        lr = torch.zeros(1, channels, *lr_size, device=target, dtype=first.dtype)
        return _count_macs(clone, lr)

    if device is not None:
        macs, per_module = run_on(torch.device(device))
    else:
        try:
            macs, per_module = run_on(torch.device("meta"))
        except (NotImplementedError, RuntimeError):
            macs, per_module = run_on(first.device)
    return Profile(params=count_parameters(model), macs=macs, lr_size=lr_size, per_module=per_module)
