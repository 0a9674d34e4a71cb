"""Ours against the implementations users would otherwise pick: same machine, same process,
same weights, interleaved rounds, outputs checked to agree.

    python benchmarks/bench_peers.py --basicsr DIR --imdn DIR --vega DIR [--rounds 7] [--threads N]
    python benchmarks/bench_peers.py --basicsr DIR --only metrics ecbsr

The peers' code is not part of this project. Fetch their repositories yourself and pass the folders:

    git clone https://github.com/XPixelGroup/BasicSR    # --basicsr: metrics, ECBSR, EDSR
    git clone https://github.com/Zheng222/IMDN          # --imdn: IMDN
    git clone https://github.com/huawei-noah/vega       # --vega: ESR_EA's ESRN

Each peer module is loaded from its file (`basicsr/metrics/psnr_ssim.py`, `basicsr/archs/ecbsr_arch.py`,
...) with its package's heavy `__init__` imports replaced by empty modules, so only the code under
test runs. BasicSR's metrics need opencv: `pip install -e 'packages/sr-eval[bench]'`.

Every comparison copies one set of weights into both networks, checks that the outputs (or the
losses of a few training steps) agree, then runs ours and theirs alternately for `--rounds` rounds
(the order flips every round, so drifts in machine load hit both) and prints the min / median / max
of the per-round speed ratio, their time / our time (> 1 = ours faster).

Threads: torch's own default (one per core) unless `--threads N` is given. On a machine whose cores
are busy with other work, torch's OpenMP threads spin at every operation's barrier waiting for a
descheduled partner, so code made of many small operations runs several times slower with 2 threads
than with 1 (cv2's own thread pool does not). Our metrics avoid it (their work runs in pieces on
Python threads with one intra-op thread each, `sr_eval.metrics`); the networks, ours and the peers',
do not. The footer prints the thread count, the load and `OMP_WAIT_POLICY` so that a table can be read
for what it is.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import os
import statistics
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from sr_eval import interleaved_times_ms

FETCH_HINTS = {
    "basicsr": "git clone https://github.com/XPixelGroup/BasicSR  (then --basicsr BasicSR)",
    "imdn": "git clone https://github.com/Zheng222/IMDN  (then --imdn IMDN)",
    "vega": "git clone https://github.com/huawei-noah/vega  (then --vega vega)",
}
COMPARISONS = ("metrics", "ecbsr", "imdn", "esrn", "edsr")
PEER_OF = {"metrics": "basicsr", "ecbsr": "basicsr", "edsr": "basicsr", "imdn": "imdn", "esrn": "vega"}

# ---------------------------------------------------------------------------------------------
# Loading a peer's files without its package __init__


def _empty_package(name: str, folder: Path | None = None) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = [str(folder)] if folder is not None else []
    sys.modules[name] = module
    return module


def _load_file(name: str, path: Path) -> types.ModuleType:
    if not path.is_file():
        raise SystemExit(f"{path}: not found (is the folder a checkout of the right repository?)")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_basicsr(root: Path) -> types.SimpleNamespace:
    """BasicSR's psnr_ssim, ecbsr_arch and edsr_arch modules, without basicsr/__init__'s imports."""
    source = root / "basicsr"
    for package in ("basicsr", "basicsr.utils", "basicsr.metrics", "basicsr.archs", "basicsr.ops"):
        _empty_package(package, source.joinpath(*package.split(".")[1:]))
    registry = _load_file("basicsr.utils.registry", source / "utils" / "registry.py")
    color = _load_file("basicsr.utils.color_util", source / "utils" / "color_util.py")
    utils = sys.modules["basicsr.utils"]
    utils.bgr2ycbcr, utils.rgb2ycbcr_pt = color.bgr2ycbcr, color.rgb2ycbcr_pt
    utils.get_root_logger = lambda *a, **k: None
    del registry
    # arch_util imports deformable convs and torchvision for DCN, which EDSR does not use.
    dcn = _empty_package("basicsr.ops.dcn")
    dcn.ModulatedDeformConvPack, dcn.modulated_deform_conv = nn.Module, None
    sys.modules.setdefault("torchvision", types.ModuleType("torchvision"))
    _load_file("basicsr.metrics.metric_util", source / "metrics" / "metric_util.py")
    _load_file("basicsr.archs.arch_util", source / "archs" / "arch_util.py")
    return types.SimpleNamespace(
        metrics=_load_file("basicsr.metrics.psnr_ssim", source / "metrics" / "psnr_ssim.py"),
        ecbsr=_load_file("basicsr.archs.ecbsr_arch", source / "archs" / "ecbsr_arch.py"),
        edsr=_load_file("basicsr.archs.edsr_arch", source / "archs" / "edsr_arch.py"),
    )


def load_imdn(root: Path) -> types.ModuleType:
    """The official IMDN's model/architecture.py (with its block.py)."""
    _empty_package("imdn_official", root / "model")
    _load_file("imdn_official.block", root / "model" / "block.py")
    return _load_file("imdn_official.architecture", root / "model" / "architecture.py")


def load_vega(root: Path) -> types.ModuleType:
    """vega's networks/erdb_esr.py on its PyTorch backend, without vega/__init__'s imports."""
    os.environ.setdefault("BACKEND_TYPE", "PYTORCH")
    os.environ.setdefault("DEVICE_CATEGORY", "CPU")
    sys.path.insert(0, str(root))
    sys.modules.setdefault("zmq", types.ModuleType("zmq"))  # vega.common's message server, unused here
    vega = _empty_package("vega", root / "vega")
    _empty_package("vega.networks", root / "vega" / "networks")
    backend = importlib.import_module("vega.common.backend_register")
    for name in backend.__all__:
        setattr(vega, name, getattr(backend, name))
    factory = importlib.import_module("vega.common.class_factory")
    vega.ClassFactory, vega.ClassType = factory.ClassFactory, factory.ClassType
    return importlib.import_module("vega.networks.erdb_esr")


LOADERS = {"basicsr": load_basicsr, "imdn": load_imdn, "vega": load_vega}

# ---------------------------------------------------------------------------------------------
# Timing


@dataclass
class Result:
    name: str
    ratios: list[float]
    ours_s: float
    theirs_s: float
    agreement: str

    def row(self) -> str:
        lo, mid, hi = min(self.ratios), statistics.median(self.ratios), max(self.ratios)
        return (
            f"| {self.name} | **{mid:.2f}x** | {lo:.2f}x / {hi:.2f}x | {self.ours_s * 1e3:.1f} ms "
            f"| {self.theirs_s * 1e3:.1f} ms | {self.agreement} |"
        )


def interleaved(ours: Callable[[], object], theirs: Callable[[], object], rounds: int, warmup: int = 1):
    """Per-round ratios theirs/ours and median times (seconds); the order of the two flips every
    round (`sr_eval.interleaved_times_ms`)."""
    times = interleaved_times_ms({"ours": ours, "theirs": theirs}, rounds, warmup)
    ratios = [t / o for o, t in zip(times["ours"], times["theirs"], strict=True)]
    return ratios, statistics.median(times["ours"]) / 1e3, statistics.median(times["theirs"]) / 1e3


def copy_parameters(source: nn.Module, target: nn.Module, skip: Callable[[str], bool] = lambda n: False):
    """Copy `source`'s parameters into `target`'s, pairing them in registration order (same shapes)."""
    theirs = [(n, p) for n, p in source.named_parameters() if not skip(n)]
    ours = list(target.named_parameters())
    if len(theirs) != len(ours):
        raise SystemExit(f"parameter counts differ: {len(theirs)} vs {len(ours)}")
    with torch.no_grad():
        for (their_name, p), (our_name, q) in zip(theirs, ours, strict=True):
            if p.numel() != q.numel():
                raise SystemExit(f"{their_name} {tuple(p.shape)} does not fit {our_name} {tuple(q.shape)}")
            q.copy_(p.reshape(q.shape))


def max_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.detach().float() - b.detach().float()).abs().max().item()


def training_step(model: nn.Module, optimizer: torch.optim.Optimizer, lr: torch.Tensor, hr: torch.Tensor):
    """One L1 step; returns the loss."""
    optimizer.zero_grad(set_to_none=True)
    loss = nn.functional.l1_loss(model(lr), hr)
    loss.backward()
    optimizer.step()
    return loss.detach()


def compare_models(
    label: str,
    ours: nn.Module,
    theirs: nn.Module,
    lr: torch.Tensor,
    train_batch: tuple[torch.Tensor, torch.Tensor],
    args: argparse.Namespace,
    *,
    eval_label: str = "forward (eval, no grad)",
    train_label: str = "training step (L1, Adam)",
    channels_last: bool = False,
) -> list[Result]:
    """Eval forward and training step of two networks holding the same weights.

    ``channels_last`` adds a row for the eval forward of a copy of ours after
    ``sr_blocks.optimize_for_inference`` (the opt-in channels-last layout) against the same peer.
    """
    ours.eval(), theirs.eval()
    with torch.no_grad():
        forward_diff = max_difference(ours(lr), theirs(lr))
        ratios, t_ours, t_theirs = interleaved(lambda: ours(lr), lambda: theirs(lr), args.rounds)
    results = [Result(f"{label} {eval_label}", ratios, t_ours, t_theirs, f"max abs diff {forward_diff:.1e}")]
    if channels_last:
        results.append(_channels_last_forward(label, ours, theirs, lr, args))
    if args.no_train:
        return results
    ours.train(), theirs.train()
    opt_ours = torch.optim.Adam(ours.parameters(), lr=1e-4)
    opt_theirs = torch.optim.Adam(theirs.parameters(), lr=1e-4)
    losses = [
        (training_step(ours, opt_ours, *train_batch), training_step(theirs, opt_theirs, *train_batch))
        for _ in range(args.check_steps)
    ]
    loss_diff = max(abs(a.item() - b.item()) / max(abs(b.item()), 1e-12) for a, b in losses)
    ratios, t_ours, t_theirs = interleaved(
        lambda: training_step(ours, opt_ours, *train_batch),
        lambda: training_step(theirs, opt_theirs, *train_batch),
        args.train_rounds,
    )
    agreement = f"losses of {args.check_steps} steps: max rel diff {loss_diff:.1e}"
    results.append(Result(f"{label} {train_label}", ratios, t_ours, t_theirs, agreement))
    return results


def _channels_last_forward(
    label: str, ours: nn.Module, theirs: nn.Module, lr: torch.Tensor, args: argparse.Namespace
) -> Result:
    from sr_blocks import optimize_for_inference

    fast = optimize_for_inference(copy.deepcopy(ours)).eval()
    with torch.no_grad():
        diff = max_difference(fast(lr), theirs(lr))
        ratios, t_ours, t_theirs = interleaved(lambda: fast(lr), lambda: theirs(lr), args.rounds)
    name = f"{label} forward, ours after optimize_for_inference (channels-last)"
    return Result(name, ratios, t_ours, t_theirs, f"max abs diff {diff:.1e}")


def _batch(channels: int, size: int, scale: int, batch: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    hr = torch.rand(batch, channels, size * scale, size * scale, generator=g)
    return nn.functional.avg_pool2d(hr, scale), hr


# ---------------------------------------------------------------------------------------------
# The comparisons


def bench_metrics(peer: types.SimpleNamespace, args: argparse.Namespace) -> list[Result]:
    """PSNR+SSIM on Y, per image as an evaluation loop calls them, over a benchmark set's bicubic SR."""
    import cv2
    import numpy as np

    from sr_data import Benchmark, imresize
    from sr_eval import psnr_ssim

    cv2.setNumThreads(torch.get_num_threads())  # the same count as torch's
    dataset = Benchmark(args.metrics_data, args.scale, root=args.data_root)
    ours_in, theirs_in = [], []
    for index in range(len(dataset)):
        item = dataset[index]
        sr, hr = imresize(item["lr"], args.scale).clamp(0, 1), item["hr"]
        ours_in.append((sr.unsqueeze(0), hr.unsqueeze(0)))  # float (1, 3, H, W), as a model returns it

        def to_bgr_uint8(img: torch.Tensor) -> np.ndarray:
            # BasicSR's tensor2img, done before timing; rounded in float64 as our metric quantises
            # (tensor2img's float32 rounding moves a few pixels across .5 and would blur the comparison).
            levels = (img.double() * 255.0).round().byte()
            return np.ascontiguousarray(levels.permute(1, 2, 0).numpy()[..., ::-1])

        theirs_in.append((to_bgr_uint8(sr), to_bgr_uint8(hr)))
    crop, metrics = args.scale, peer.metrics

    def ours() -> list[tuple[float, float]]:
        rows = []
        for sr, hr in ours_in:
            p, s = psnr_ssim(sr, hr, crop, test_y_channel=True)
            rows.append((p.item(), s.item()))
        return rows

    def theirs() -> list[tuple[float, float]]:
        return [
            (
                metrics.calculate_psnr(sr, hr, crop, test_y_channel=True),
                metrics.calculate_ssim(sr, hr, crop, test_y_channel=True),
            )
            for sr, hr in theirs_in
        ]

    a, b = ours(), theirs()
    d_psnr = max(abs(x[0] - y[0]) for x, y in zip(a, b, strict=True))
    d_ssim = max(abs(x[1] - y[1]) for x, y in zip(a, b, strict=True))
    means = [statistics.fmean(r[i] for r in rows) for rows in (a, b) for i in (0, 1)]
    print(
        f"  means: ours {means[0]:.9f} dB / {means[1]:.10f}, BasicSR {means[2]:.9f} dB / {means[3]:.10f}; "
        f"max per-image |diff| {d_psnr:.1e} dB, {d_ssim:.1e} SSIM (Y: BasicSR converts in float32)"
    )
    rgb_psnr = max(
        abs(psnr_ssim(sr, hr, crop, test_y_channel=False)[0].item() - metrics.calculate_psnr(s, h, crop))
        for (sr, hr), (s, h) in zip(ours_in[:8], theirs_in[:8], strict=True)
    )
    print(f"  RGB (float64 in both), first 8 images: max PSNR |diff| {rgb_psnr:.1e} dB")
    ratios, t_ours, t_theirs = interleaved(ours, theirs, args.rounds)
    name = f"PSNR+SSIM on Y, {args.metrics_data} x{args.scale} ({len(ours_in)} images), vs BasicSR (cv2)"
    agreement = (
        f"means differ by {abs(means[0] - means[2]):.0e} dB / {abs(means[1] - means[3]):.0e}; "
        f"per image at most {d_psnr:.0e} dB / {d_ssim:.0e}"
    )
    return [Result(name, ratios, t_ours, t_theirs, agreement)]


def _ecb_name_map(our_names: list[str]) -> dict[str, str]:
    """Our ECBSR parameter names -> BasicSR's (backbone.i.* and k0/b0/k1/b1 in the sequential convs)."""
    mapping = {}
    body = sorted({int(n.split(".")[1]) for n in our_names if n.startswith("body.")})
    index = {"head": 0, "tail": len(body) + 1, **{f"body.{i}": i + 1 for i in body}}
    parts = {
        "conv1x1_3x3.expand.weight": "conv1x1_3x3.k0",
        "conv1x1_3x3.expand.bias": "conv1x1_3x3.b0",
        "conv1x1_3x3.conv.weight": "conv1x1_3x3.k1",
        "conv1x1_3x3.conv.bias": "conv1x1_3x3.b1",
    }
    for branch in ("sbx", "sby", "lpl"):
        parts[f"conv1x1_{branch}.pointwise.weight"] = f"conv1x1_{branch}.k0"
        parts[f"conv1x1_{branch}.pointwise.bias"] = f"conv1x1_{branch}.b0"
    for name in our_names:
        block = name.split(".conv")[0].split(".act")[0]
        rest = name[len(block) + 1 :]
        mapping[name] = f"backbone.{index[block]}.{parts.get(rest, rest)}"
    return mapping


def _copy_ecbsr(theirs: nn.Module, ours: nn.Module) -> None:
    names = _ecb_name_map([n for n, _ in ours.named_parameters()])
    their_params = dict(theirs.named_parameters())
    with torch.no_grad():
        for name, p in ours.named_parameters():
            p.copy_(their_params[names[name]].reshape(p.shape))


def bench_ecbsr(peer: types.SimpleNamespace, args: argparse.Namespace) -> list[Result]:
    from sr_blocks import create_model
    from sr_reparam import deploy

    label = "ECBSR-M4C16 (Y)"
    theirs = peer.ecbsr.ECBSR(1, 1, 4, 16, with_idt=False, act_type="prelu", scale=args.scale)
    ours = create_model("ecbsr_m4c16", scale=args.scale, in_channels=1, out_channels=1)
    _copy_ecbsr(theirs, ours)
    lr = torch.rand(1, 1, *args.ecbsr_size)
    batch = _batch(1, args.patch, args.scale, args.batch)
    no_train = argparse.Namespace(**{**vars(args), "no_train": True})
    results = compare_models(
        label, ours, theirs, lr, batch, no_train, eval_label="training form in eval mode"
    )
    deployed = deploy(ours)
    with torch.no_grad():
        diff = max_difference(deployed(lr), theirs(lr))
        ratios, t_ours, t_theirs = interleaved(lambda: deployed(lr), lambda: theirs(lr), args.rounds)
    results.append(
        Result(f"{label} deployed vs their eval", ratios, t_ours, t_theirs, f"max abs diff {diff:.1e}")
    )
    if args.no_train:
        return results
    for mode in ("collapsed", "expanded"):  # ours trains collapsed by default; expanded = the official way
        _copy_ecbsr(theirs, ours)
        ours.training_mode = mode
        train = f"training step, ours {mode} (L1, Adam)"
        results += compare_models(label, ours, theirs, lr, batch, args, train_label=train)[1:]
    return results


def bench_imdn(peer: types.ModuleType, args: argparse.Namespace) -> list[Result]:
    from sr_blocks import create_model

    ours = create_model("imdn", scale=args.scale)
    theirs = peer.IMDN(upscale=args.scale)
    copy_parameters(theirs, ours)
    lr = torch.rand(1, 3, *args.lr_size)
    batch = _batch(3, args.patch, args.scale, args.batch)
    return compare_models("IMDN", ours, theirs, lr, batch, args, channels_last=True)


def bench_esrn(peer: types.ModuleType, args: argparse.Namespace) -> list[Result]:
    from sr_blocks import create_model

    ours = create_model("esrn", scale=args.scale)
    none = (None,) * 6
    theirs = peer.ESRN(*none, G0=32, scale=args.scale, code=None, architecture=list(ours.genes))
    copy_parameters(theirs, ours)
    lr = torch.rand(1, 3, *args.lr_size)
    label = f"ESRN ({len(ours.genes)} genes)"
    batch = _batch(3, args.patch, args.scale, args.batch)
    return compare_models(label, ours, theirs, lr, batch, args, channels_last=True)


def bench_edsr(peer: types.SimpleNamespace, args: argparse.Namespace) -> list[Result]:
    from sr_blocks import create_model

    ours = create_model("edsr_baseline", scale=args.scale)
    # img_range 1: our images are in [0, 1] and EDSR-PyTorch's rgb_range 1 (BasicSR scales to 0..255).
    theirs = peer.edsr.EDSR(3, 3, num_feat=64, num_block=16, upscale=args.scale, img_range=1.0)
    copy_parameters(theirs, ours)
    lr = torch.rand(1, 3, *args.lr_size)
    batch = _batch(3, args.patch, args.scale, args.batch)
    return compare_models("EDSR-baseline", ours, theirs, lr, batch, args, channels_last=True)


BENCHES = {
    "metrics": bench_metrics,
    "ecbsr": bench_ecbsr,
    "imdn": bench_imdn,
    "esrn": bench_esrn,
    "edsr": bench_edsr,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--basicsr", type=Path, help="a checkout of XPixelGroup/BasicSR")
    parser.add_argument("--imdn", type=Path, help="a checkout of Zheng222/IMDN")
    parser.add_argument("--vega", type=Path, help="a checkout of huawei-noah/vega")
    parser.add_argument("--only", nargs="+", choices=COMPARISONS, default=list(COMPARISONS))
    parser.add_argument(
        "--threads", type=int, default=None, help="torch (and cv2) threads (default: torch's own default)"
    )
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds of each forward/metric")
    parser.add_argument(
        "--train-rounds", type=int, default=5, help="interleaved rounds of each training step"
    )
    parser.add_argument("--check-steps", type=int, default=3, help="training steps whose losses must agree")
    parser.add_argument("--no-train", action="store_true", help="skip the training steps")
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--lr-size", type=int, nargs=2, default=(96, 96), metavar=("H", "W"))
    parser.add_argument("--ecbsr-size", type=int, nargs=2, default=(128, 128), metavar=("H", "W"))
    parser.add_argument("--patch", type=int, default=48, help="LR side of the training patches")
    parser.add_argument("--batch", type=int, default=8, help="training batch")
    parser.add_argument("--metrics-data", default="BSD68")
    parser.add_argument("--data-root", default=None, help="benchmark sets (default: sr_data's search)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    peers: dict[str, object] = {}
    results: list[Result] = []
    for name in args.only:
        peer_name = PEER_OF[name]
        folder = getattr(args, peer_name)
        if folder is None:
            print(f"[{name}] skipped: no --{peer_name} folder. Fetch it with: {FETCH_HINTS[peer_name]}")
            continue
        if peer_name not in peers:
            peers[peer_name] = LOADERS[peer_name](folder.resolve())
        print(f"[{name}] vs {peer_name} ({folder})")
        for result in BENCHES[name](peers[peer_name], args):
            results.append(result)
            print("  " + result.row())
    load = os.getloadavg()
    policy = os.environ.get("OMP_WAIT_POLICY", "default")
    print(
        f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads (OMP_WAIT_POLICY {policy}), "
        f"{args.rounds} rounds ({args.train_rounds} for training steps); "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs"
    )
    print("| work | ours vs peer (median ratio, >1 = ours faster) | min / max | ours | peer | agreement |")
    print("|---|---|---|---|---|---|")
    for result in results:
        print(result.row())


if __name__ == "__main__":
    main()
