"""DistributedDataParallel context: who am I, which device, and the process group under torchrun."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from sr_eval.runtime import resolve_device as checked_device


@dataclass(frozen=True)
class DistContext:
    """World size, rank and local rank of this process (1, 0, 0 when not distributed)."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def setup_distributed() -> DistContext:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1) or use one already set up.

    The backend is NCCL when CUDA is available, else gloo (CPU).
    """
    if dist.is_available() and dist.is_initialized():
        local = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
        return DistContext(dist.get_world_size(), dist.get_rank(), local)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local)
    dist.init_process_group(backend)
    return DistContext(dist.get_world_size(), dist.get_rank(), local)


def resolve_device(name: str | torch.device | None, ctx: DistContext | None = None) -> torch.device:
    """The checked device (`sr_eval.runtime.resolve_device`); "auto" is this rank's CUDA device when
    CUDA is present (device 0 without `ctx`), else the CPU."""
    return checked_device(name, (ctx or DistContext()).local_rank)


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        dist.barrier()


def min_across_ranks(value: int, ctx: DistContext, device: torch.device) -> int:
    """The smallest `value` over all ranks (itself when not distributed)."""
    if not ctx.enabled:
        return value
    t = torch.tensor([value], dtype=torch.long, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return int(t.item())
