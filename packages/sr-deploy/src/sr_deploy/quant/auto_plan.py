"""The automatic mixed-precision plan: the fewest convs left float so that PTQ stays within a budget.

`ptq`'s default (`keep_float="auto"`). A quarter of the calibration items is held out
(`holdout.split_calibration`); the rest calibrates. The all-integer network is scored on the
hold-out; when it loses `max_drop` dB or more there, each conv's cost is measured by putting that
conv alone back to float in the calibrated network (one hold-out pass per conv, no recalibration),
the convs are ranked by cost, the smallest top-k whose swap already meets the budget is found the
same cheap way, and PTQ with those k convs float (`keep_float`, recalibrated) is checked on the
hold-out, adding the next conv until it meets the budget. No test set is read: the figures are the
calibration data's own. A drop is clamped at 0 (a quantised network that scores above the float one
on the hold-out loses nothing), so a budget of 0 dB keeps every conv float.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from sr_deploy.quant.holdout import HeldOut, holdout_psnr, split_calibration
from sr_deploy.quant.layers import QUANT_CONVS
from sr_deploy.quant.quantize import DEFAULT_MAX_DROP, ptq
from sr_deploy.quant.sensitivity import PlanStep, conv_names


@dataclass(frozen=True)
class LayerCost:
    """One conv: the hold-out PSNR drop (dB) when it alone is quantised, and its share of the
    network's conv multiply-accumulates (what leaving it float gives up)."""

    name: str
    shape: str  # "in->out kxk"
    cost_db: float
    mac_share: float


@dataclass(frozen=True)
class MixedPlan:
    """What the automatic plan chose and why: the convs kept float, what each costs quantised, the
    hold-out drops (all-integer and with the plan) and the share of conv MACs left float."""

    keep_float: tuple[str, ...]
    max_drop: float
    float_psnr: float
    all_int8_drop: float
    drop: float
    costs: tuple[LayerCost, ...]  # every conv measured, most costly first (empty when none was)
    trials: tuple[PlanStep, ...]  # the PTQ runs checked on the hold-out
    calibration_items: int
    holdout_items: int
    float_mac_share: float

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "keep_float": list(self.keep_float),
            "costs": [asdict(row) for row in self.costs],
            "trials": [trial.to_dict() for trial in self.trials],
        }

    def summary(self) -> str:
        """A few lines for a log or a report: the kept convs, their cost, the speed given up."""
        lines = [
            f"mixed-precision plan (hold-out: {self.holdout_items} of the calibration items, "
            f"calibrated on the other {self.calibration_items}; budget {self.max_drop:g} dB): "
            f"all integer loses {self.all_int8_drop:.3f} dB, the plan {self.drop:.3f} dB with "
            f"{len(self.keep_float)} conv(s) float ({100 * self.float_mac_share:.1f}% of the conv MACs)"
        ]
        by_name = {row.name: row for row in self.costs}
        for name in self.keep_float:
            row = by_name.get(name)
            cost = "not measured" if row is None else f"costs {row.cost_db:+.3f} dB quantised"
            share = "" if row is None else f", {100 * row.mac_share:.1f}% of the MACs"
            lines.append(f"  float: {name} ({cost}{share})")
        return "\n".join(lines)


def mixed_precision_plan(
    model: nn.Module, calibration: object, max_drop: float = DEFAULT_MAX_DROP, **ptq_options: Any
) -> MixedPlan:
    """The automatic plan for `ptq(model, calibration, **ptq_options)` within `max_drop` dB on the
    calibration data's hold-out (see the module docstring; `calibration` must carry HR targets,
    `holdout.split_calibration`)."""
    return search(model, calibration, max_drop, **ptq_options)[0]


def planned_ptq(model: nn.Module, calibration: object, max_drop: float, **ptq_options: Any) -> nn.Module:
    """`ptq` with the automatic plan: the quantised network, its `MixedPlan` as `.mixed_plan`."""
    plan, qmodel = search(model, calibration, max_drop, **ptq_options)
    if qmodel is None:
        between = (  # its quantisers stay whichever convs are float: the plan cannot trade them
            ", or quantize_between=False (its quantisers are no part of the plan)"
            if ptq_options.get("quantize_between")
            else ""
        )
        raise ValueError(
            f"ptq: every conv costs {max_drop:g} dB or more on the calibration hold-out (all integer loses "
            f"{plan.all_int8_drop:.3f} dB): raise max_drop, or give keep_float=() for the all-integer "
            f"network{between}"
        )
    qmodel.mixed_plan = plan
    return qmodel


def search(
    model: nn.Module, calibration: object, max_drop: float, **ptq_options: Any
) -> tuple[MixedPlan, nn.Module | None]:
    """The plan and its quantised network (None when every conv stays float)."""
    if not max_drop >= 0:
        raise ValueError(f"max_drop must be a number of dB >= 0, got {max_drop!r}")
    split = split_calibration(calibration)
    names = conv_names(model, split.calibration)
    macs = conv_macs(model, split.holdout[0][0][:1])
    total = sum(macs.values())
    float_psnr = holdout_psnr(model, split.holdout)

    def plan(keep: Sequence[str], all_drop: float, drop: float, costs=(), trials=()) -> MixedPlan:
        return MixedPlan(
            tuple(keep), max_drop, float_psnr, all_drop, drop, tuple(costs), tuple(trials),
            *split.counts, sum(macs[name] for name in keep) / total,
        )  # fmt: skip

    qmodel = ptq(model, split.calibration, keep_float=(), **ptq_options)
    trials = [_trial(qmodel, (), split, float_psnr)]
    all_drop = trials[0].drop_db
    if max_drop == 0:  # a drop is clamped at 0, so no quantised network is below a budget of 0
        return plan(names, all_drop, 0.0, trials=trials), None
    if all_drop < max_drop:
        return plan((), all_drop, all_drop, trials=trials), qmodel
    costs = layer_costs(qmodel, model, names, split, macs, float_psnr)
    ranked = [row.name for row in costs]
    count = next(
        (
            k
            for k in range(1, len(ranked))
            if _swapped_drop(qmodel, model, ranked[:k], split, float_psnr) < max_drop
        ),
        len(ranked),
    )
    for k in range(count, len(ranked)):
        candidate = ptq(model, split.calibration, keep_float=ranked[:k], **ptq_options)
        trials.append(_trial(candidate, ranked[:k], split, float_psnr))
        if trials[-1].drop_db < max_drop:
            return plan(ranked[:k], all_drop, trials[-1].drop_db, costs, trials), candidate
    return plan(ranked, all_drop, 0.0, costs, trials), None


def layer_costs(
    qmodel: nn.Module,
    model: nn.Module,
    names: Sequence[str],
    split: HeldOut,
    macs: dict[str, int],
    float_psnr: float,
) -> list[LayerCost]:
    """Per conv of `names`, the hold-out PSNR drop of the calibrated `qmodel` with every other conv
    swapped back to float (that conv alone quantised), most costly first."""
    total = sum(macs.values())
    rows = []
    for name in names:
        with float_convs_in(qmodel, model, [other for other in names if other != name]):
            drop = float_psnr - holdout_psnr(qmodel, split.holdout)
        conv = model.get_submodule(name)
        shape = f"{conv.in_channels}->{conv.out_channels} {'x'.join(map(str, conv.kernel_size))}"
        rows.append(LayerCost(name, shape, drop, macs[name] / total))
    return sorted(rows, key=lambda row: -row.cost_db)


@contextmanager
def float_convs_in(qmodel: nn.Module, model: nn.Module, names: Sequence[str]) -> Iterator[nn.Module]:
    """`qmodel` with the convs `names` swapped for `model`'s float ones, put back on exit."""
    swapped = []
    try:
        for name in names:
            parent_name, _, child = name.rpartition(".")
            parent = qmodel.get_submodule(parent_name)
            swapped.append((parent, child, getattr(parent, child)))
            setattr(parent, child, model.get_submodule(name))
        yield qmodel
    finally:
        for parent, child, original in reversed(swapped):
            setattr(parent, child, original)


@torch.no_grad()
def conv_macs(model: nn.Module, lr: torch.Tensor) -> dict[str, int]:
    """Multiply-accumulates of each conv of `model` for the input `lr` (one image)."""
    macs: dict[str, int] = {}

    def record(name: str):
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            pixels = inputs[0].shape[-2:] if isinstance(module, nn.ConvTranspose2d) else output.shape[-2:]
            macs[name] = macs.get(name, 0) + pixels.numel() * module.weight.numel()

        return hook

    handles = [
        module.register_forward_hook(record(name))
        for name, module in model.named_modules()
        if type(module) in QUANT_CONVS
    ]
    device = next(model.parameters()).device
    try:
        model(lr.to(device))
    finally:
        for handle in handles:
            handle.remove()
    return macs


def _trial(qmodel: nn.Module, keep: Sequence[str], split: HeldOut, float_psnr: float) -> PlanStep:
    value = holdout_psnr(qmodel, split.holdout)
    return PlanStep(tuple(keep), value, max(0.0, float_psnr - value))


def _swapped_drop(
    qmodel: nn.Module, model: nn.Module, names: Sequence[str], split: HeldOut, float_psnr: float
) -> float:
    with float_convs_in(qmodel, model, names):
        return max(0.0, float_psnr - holdout_psnr(qmodel, split.holdout))
