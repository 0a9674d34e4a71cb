"""Print a Markdown table of every registered sr_blocks model: parameters and MACs, ours vs official.

    python benchmarks/model_table.py            # the table in packages/sr-blocks/README.md

For each model and scale 2 / 4: trainable parameters of the training form, the official
implementation's count (the OFFICIAL_PARAMS dicts the family tests assert, read from
packages/sr-blocks/tests/test_*.py), parameters of the inference form (`sr_reparam.deploy`) where
it differs, and MACs of one forward pass of the inference form producing a 1280x720 output (LR
640x360 at x2, 320x180 at x4), with the paper's MACs where a test file records them (PAPER_MACS).
Parameters and MACs come from `sr_eval` (`count_parameters`, `profile`: FlopCounterMode, FLOPs / 2).
Models whose official counts are for the Y channel (ECBSR, SESR) are measured with one channel.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from sr_blocks import create_model, list_models
from sr_eval import count_parameters, profile
from sr_reparam import deploy

TESTS = Path(__file__).resolve().parents[1] / "packages" / "sr-blocks" / "tests"
HR_SIZE = (720, 1280)
SCALES = (2, 4)
# Multi-adds for a 1280x720 output reported by the papers: (x2, x4) in GMACs.
PAPER_MACS = {
    "imdn": (158.8, 40.9),  # Hui et al. 2019, Table 3 (IMDN)
}


def _load_test_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"_sr_blocks_tests_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def official_counts() -> tuple[dict, dict]:
    """{(name, scale): (channels, training, inference or None)} and {name: (x2, x4) paper GMACs}.

    Reads every test file's OFFICIAL_PARAMS, whose keys are (name, scale) for RGB models or
    (name, scale, colors), and whose values are a count, a (training, deployed) pair, or a dict
    with "training" and optionally "conv" + "prelu" (the inference form). Where a model has
    counts for one channel, those are used (the papers' Y-channel setting).
    """
    counts: dict = {}
    paper = dict(PAPER_MACS)
    for path in sorted(TESTS.glob("test_*.py")):
        module = _load_test_module(path)
        paper.update(getattr(module, "PAPER_MACS", {}))
        for key, value in getattr(module, "OFFICIAL_PARAMS", {}).items():
            name, scale, *rest = key
            if not isinstance(name, str) or name not in list_models():
                continue
            channels = rest[0] if rest else (1 if isinstance(value, dict) else 3)
            if isinstance(value, dict):
                inference = value["conv"] + value["prelu"] if "conv" in value else None
                training = value["training"]
            elif isinstance(value, tuple):
                training, inference = value
            else:
                training, inference = value, None
            if (name, scale) not in counts or channels < counts[name, scale][0]:
                counts[name, scale] = (channels, training, inference)
    return counts, paper


def macs(model: torch.nn.Module, scale: int, channels: int) -> int:
    return profile(model, scale=scale, hr_size=HR_SIZE, in_channels=channels).macs


def _fmt(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def _official_cell(ours: int, official: int | None) -> str:
    if official is None:
        return "–"
    return f"{official:,}" if ours == official else f"**{official:,} (differs)**"


def _inference_cell(ours: int, official: int | None) -> str:
    if official is None:
        return f"{ours:,}"
    return f"{ours:,} ({official:,})" if ours == official else f"{ours:,} (official {official:,}†)"


def build_rows() -> list[list[str]]:
    counts, paper = official_counts()
    rows = []
    for name in list_models():
        channels = counts.get((name, 2), (3,))[0]
        cells = {"params": [], "official": [], "inference": [], "macs": []}
        for scale in SCALES:
            model = create_model(name, scale=scale, in_channels=channels, out_channels=channels)
            inference = deploy(model)
            ours, ours_inference = count_parameters(model), count_parameters(inference)
            _, official, official_inference = counts.get((name, scale), (channels, None, None))
            cells["params"].append(_fmt(ours))
            cells["official"].append(_official_cell(ours, official))
            if ours_inference != ours or official_inference is not None:
                cells["inference"].append(_inference_cell(ours_inference, official_inference))
            cells["macs"].append(f"{macs(inference, scale, channels) / 1e9:.2f}")
        paper_macs = " / ".join(f"{v:g}" for v in paper[name]) if name in paper else "–"
        rows.append(
            [
                name,
                str(channels),
                cells["params"][0],
                cells["official"][0],
                cells["params"][1],
                cells["official"][1],
                " / ".join(cells["inference"]) or "=",
                cells["macs"][0],
                cells["macs"][1],
                paper_macs,
            ]
        )
    return rows


def main() -> None:
    header = [
        "model",
        "C",
        "params x2",
        "official x2",
        "params x4",
        "official x4",
        "inference-form params x2 / x4 (official)",
        "GMACs x2",
        "GMACs x4",
        "paper GMACs x2 / x4",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in build_rows():
        print("| " + " | ".join(row) + " |")
    print()
    print(
        "MACs: one forward pass of the inference form for a 1280x720 output, "
        "counted with sr_eval.profile (FlopCounterMode, FLOPs / 2)."
    )
    print("C: image channels of the comparison (1 = the Y-channel setting of the official code).")
    print(
        "†: an inference form that differs from the official one on purpose (see the notes below the table)."
    )


if __name__ == "__main__":
    main()
