"""Which convs of a network resist quantisation, and the mixed-precision plan that keeps them float.

`layer_sensitivity` quantises one conv at a time (the others float, through `ptq`'s `keep_float`)
and measures the PSNR drop on one tuning set; `plan_keep_float` then keeps the most sensitive
convs float, doubling their number until the fully quantised network's drop on the tuning set is
within a target. Tune on one set (Set5, say) and report on the others, so that the plan is not
fitted to the figures it is judged by.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from torch import nn
from torch.utils.data import Dataset

from sr_deploy.quant.calibration import CalibrationData, as_batches
from sr_deploy.quant.convert import check_quantisable, probe_convs
from sr_deploy.quant.quantize import ptq
from sr_eval import evaluate

Log = Callable[[str], None]


@dataclass(frozen=True)
class LayerSensitivity:
    """One conv quantised alone: its execution order, shape and the tuning set's PSNR/SSIM drop."""

    name: str
    order: int
    shape: str  # "in->out kxk"
    psnr: float
    drop_db: float
    ssim_drop: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlanStep:
    """One trial of `plan_keep_float`: the convs kept float and the drop of the rest quantised."""

    keep_float: tuple[str, ...]
    psnr: float
    drop_db: float

    def to_dict(self) -> dict[str, Any]:
        return {"keep_float": list(self.keep_float), "psnr": self.psnr, "drop_db": self.drop_db}


def conv_names(model: nn.Module, calibration: CalibrationData) -> list[str]:
    """The quantisable convs of `model` in the order they run on `calibration`."""
    check_quantisable(model)
    uses = probe_convs(model, as_batches(calibration))
    return sorted(uses, key=lambda name: uses[name].order)


def score(model: nn.Module, tuning_set: Dataset, scale: int) -> tuple[float, float]:
    """(PSNR, SSIM) of `model` on `tuning_set` (Y channel, crop = scale), on the CPU."""
    summary = next(iter(evaluate(model, [tuning_set], scale, device="cpu").summary.values()))
    return summary["psnr"], summary["ssim"]


def layer_sensitivity(
    model: nn.Module,
    calibration: CalibrationData,
    tuning_set: Dataset,
    scale: int,
    *,
    only: Sequence[str] | None = None,
    log: Log | None = None,
    **ptq_options: Any,
) -> tuple[tuple[float, float], list[LayerSensitivity]]:
    """The float (PSNR, SSIM) on `tuning_set` and, per conv in execution order, the drop when that
    conv alone is quantised by `ptq(model, calibration, **ptq_options)` (bit widths, method ...;
    the conv keeps the widths it has in the full plan, e.g. 8-bit `io_bits` for the first one).
    `only` limits the table to those convs (names; an unknown one is an error)."""
    batches = as_batches(calibration)
    names = conv_names(model, batches)
    unknown = [name for name in only or () if name not in names]
    if unknown:
        raise ValueError(f"layer_sensitivity: {unknown[0]!r} is not a conv of the model")
    base_psnr, base_ssim = score(model, tuning_set, scale)
    rows = []
    for order, name in enumerate(names):
        if only is not None and name not in only:
            continue
        others = [other for other in names if other != name]
        qmodel = ptq(model, batches, keep_float=others, **ptq_options)
        psnr, ssim = score(qmodel, tuning_set, scale)
        conv = model.get_submodule(name)
        shape = f"{conv.in_channels}->{conv.out_channels} {'x'.join(map(str, conv.kernel_size))}"
        rows.append(LayerSensitivity(name, order, shape, psnr, base_psnr - psnr, base_ssim - ssim))
        if log:
            log(f"  {name:32s} {shape:14s} drop {base_psnr - psnr:+.4f} dB")
    return (base_psnr, base_ssim), rows


def plan_keep_float(
    model: nn.Module,
    calibration: CalibrationData,
    tuning_set: Dataset,
    scale: int,
    sensitivity: Sequence[LayerSensitivity],
    target_drop_db: float,
    *,
    max_float: int = 8,
    log: Log | None = None,
    **ptq_options: Any,
) -> tuple[list[str], list[PlanStep]]:
    """The fewest most-sensitive convs to keep float so that `ptq` of the rest loses at most
    `target_drop_db` on `tuning_set`: tries the top 0, 1, 2, 4, ... up to `max_float` convs by
    `sensitivity` drop (only convs whose own drop is positive). Returns (keep_float, the trials); when
    no trial reaches the target, the trial with the smallest drop is returned."""
    batches = as_batches(calibration)
    base_psnr, _ = score(model, tuning_set, scale)
    ranked = [row.name for row in sorted(sensitivity, key=lambda row: -row.drop_db) if row.drop_db > 0]
    counts, count = [0], 1
    while count <= min(max_float, len(ranked)):
        counts.append(count)
        count *= 2
    if len(ranked) and counts[-1] < min(max_float, len(ranked)):
        counts.append(min(max_float, len(ranked)))
    trials: list[PlanStep] = []
    for count in counts:
        keep = tuple(ranked[:count])
        psnr, _ = score(ptq(model, batches, keep_float=keep, **ptq_options), tuning_set, scale)
        trials.append(PlanStep(keep, psnr, base_psnr - psnr))
        if log:
            log(f"  {count} conv(s) float: drop {base_psnr - psnr:+.4f} dB")
        if base_psnr - psnr <= target_drop_db:
            return list(keep), trials
    best = min(trials, key=lambda trial: trial.drop_db)
    return list(best.keep_float), trials


def sensitivity_markdown(rows: Sequence[LayerSensitivity], top: int | None = None) -> str:
    """The sensitivity table, most sensitive first (the `top` rows, or all)."""
    ranked = sorted(rows, key=lambda row: -row.drop_db)[:top]
    lines = ["| conv | order | shape | PSNR drop (dB) | SSIM drop |", "|---|---:|---|---:|---:|"]
    lines += [
        f"| `{row.name}` | {row.order} | {row.shape} | {row.drop_db:+.4f} | {row.ssim_drop:+.5f} |"
        for row in ranked
    ]
    return "\n".join(lines) + "\n"
