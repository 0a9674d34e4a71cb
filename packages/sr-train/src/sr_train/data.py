"""Training data plumbing: in-memory patch tensors, a resumable distributed sampler, batches.

The data order is a pure function of (seed, epoch, position in the epoch), so a checkpoint that
stores the epoch and the number of batches already taken resumes with exactly the same batches.
A dataset's own randomness resumes exactly when it depends on (seed, epoch, index) only, as
sr_data.RandomPatches' does, or, with num_workers=0, when it draws from the global RNG (restored).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler


class PatchTensors(Dataset):
    """LR/HR pairs held as two tensors (N,C,h,w) and (N,C,h*s,w*s), e.g. patches built once.

    The trainer gathers batches from it by indexing, with no DataLoader, and `to(device)` moves the
    whole set once, so the searches' hundreds of short trainings never decode images again.
    """

    def __init__(self, lr: torch.Tensor, hr: torch.Tensor) -> None:
        if lr.ndim != 4 or hr.ndim != 4 or len(lr) != len(hr):
            raise ValueError(
                f"PatchTensors needs lr (N,C,h,w) and hr (N,C,H,W) of equal N; got "
                f"{tuple(lr.shape)} and {tuple(hr.shape)}"
            )
        self.lr, self.hr = lr, hr

    def __len__(self) -> int:
        return len(self.lr)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"lr": self.lr[index], "hr": self.hr[index]}

    def to(self, device: str | torch.device) -> PatchTensors:
        """The same pairs on `device` (self when already there)."""
        if self.lr.device == torch.device(device):
            return self
        return PatchTensors(self.lr.to(device), self.hr.to(device))


def stack_patches(dataset: Dataset, count: int | None = None) -> PatchTensors:
    """Read `count` items (default: all) of an equal-size LR/HR dataset into a `PatchTensors`."""
    count = len(dataset) if count is None else min(count, len(dataset))
    pairs = [split_pair(dataset[i]) for i in range(count)]
    return PatchTensors(torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs]))


def as_dataset(data: Dataset | tuple[torch.Tensor, torch.Tensor]) -> Dataset:
    """Accept a dataset or an (lr, hr) pair of tensors."""
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(torch.is_tensor(t) for t in data):
        return PatchTensors(*data)
    if isinstance(data, Dataset):
        return data
    raise TypeError(
        f"training/validation data must be a Dataset or an (lr, hr) tensor pair, got {type(data).__name__}"
    )


def split_pair(item: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(lr, hr) from a dataset item or batch: a dict with "lr"/"hr" or a 2-sequence."""
    if isinstance(item, dict):
        return item["lr"], item["hr"]
    lr, hr = item
    return lr, hr


class ResumableSampler(DistributedSampler):
    """torch's DistributedSampler (same shuffling and rank split) that can start mid-epoch.

    Works without an initialised process group when given `num_replicas` and `rank`.
    """

    def __init__(self, dataset: Dataset, num_replicas: int, rank: int, seed: int) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed)
        self.start = 0

    def set_position(self, epoch: int, start: int) -> None:
        """Iterate epoch `epoch` from its `start`-th index on (this rank's share)."""
        self.set_epoch(epoch)
        self.start = start

    def __iter__(self) -> Iterator[int]:
        return iter(list(super().__iter__())[self.start :])

    def __len__(self) -> int:
        return self.num_samples - self.start


def iterate_batches(
    dataset: Dataset, sampler: ResumableSampler, batch_size: int, num_workers: int, pin_memory: bool
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Full batches of (lr, hr) in the sampler's order (a short last batch is dropped)."""
    if isinstance(dataset, PatchTensors):
        order = torch.tensor(list(sampler), dtype=torch.long)
        for start in range(0, len(order) - batch_size + 1, batch_size):
            index = order[start : start + batch_size].to(dataset.lr.device)
            yield dataset.lr[index], dataset.hr[index]
        return
    # Its own generator (per seed and epoch), so starting an iterator mid-epoch on resume does not draw
    # from the global RNG at a different moment than the uninterrupted run did.
    generator = torch.Generator().manual_seed(sampler.seed * 1_000_003 + sampler.epoch)
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        pin_memory=pin_memory,
        drop_last=True,
        generator=generator,
    )
    for batch in loader:
        yield split_pair(batch)
