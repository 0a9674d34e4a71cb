"""Cheap deterministic stand-ins for training, importable by spawned workers and subprocesses."""

from __future__ import annotations

import os
import random
from collections.abc import Sequence

from sr_search_evo import ESRSpace, esrn_params

# run_search keywords of the tests: no log lines; a small seeded search.
QUIET = dict(log=lambda line: None)
SMALL = dict(num_generation=4, num_individual=6, num_elitism=2, mutation_rate=0.1, seed=3)

# ESR_EA's constraints, on a shorter encoding to keep the tests quick.
SPACE_KWARGS = dict(node_num=12, min_active=8, min_params=200_000, max_params=215_000)


def esr_space() -> ESRSpace:
    return ESRSpace(**SPACE_KWARGS)


def fake_psnr(genes: Sequence[str]) -> float:
    """A made-up score that prefers wide, deep blocks of type G, plus a hash-like jitter."""
    score = 30.0
    for position, gene in enumerate(genes):
        kind, convs, growth, out = gene.split("_")
        score += 0.01 * int(convs) + 0.0005 * int(growth) * int(out) / 16 + (0.05 if kind == "G" else 0.0)
        score += 0.001 * ((position * 7 + int(growth)) % 5)
    return round(score, 6)


def fake_fitness(genes: Sequence[str]) -> dict:
    return {
        "psnr": fake_psnr(genes),
        "params": esrn_params(genes),
        "macs": 1000 * len(genes) + sum(map(len, genes)),
    }


class CountingFitness:
    """fake_fitness that counts its calls (in this process)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, genes: Sequence[str]) -> dict:
        self.calls.append(tuple(genes))
        return fake_fitness(genes)


class DyingFitness:
    """fake_fitness that kills the whole process (no cleanup, like a SIGKILL) on call `die_at`."""

    def __init__(self, die_at: int) -> None:
        self.die_at, self.calls = die_at, 0

    def __call__(self, genes: Sequence[str]) -> dict:
        self.calls += 1
        if self.calls == self.die_at:
            os._exit(17)
        return fake_fitness(genes)


def failing_fitness(genes: Sequence[str]) -> dict:
    if len(genes) % 2:
        raise RuntimeError("odd networks fail")
    return fake_fitness(genes)


def slow_fitness(genes: Sequence[str]) -> dict:
    """fake_fitness after a short random sleep, so results finish out of order."""
    import time

    time.sleep(random.Random(",".join(genes)).uniform(0.0, 0.05))
    return {**fake_fitness(genes), "pid": os.getpid(), "device": os.environ.get("SR_SEARCH_EVO_DEVICE")}


class BitSpace:
    """OneMax on bit strings: a search space with nothing of SR in it, for the engine's genericity."""

    def __init__(self, length: int = 16, min_ones: int = 2) -> None:
        self.length, self.min_ones = length, min_ones

    def sample(self, rng: random.Random) -> list:
        return [rng.randint(0, 1) for _ in range(self.length)]

    def mutate(self, ind: list, rng: random.Random, rate: float, credit=None) -> list:
        return [1 - b if rng.random() < rate else b for b in ind]

    def crossover(self, a: list, b: list, rng: random.Random) -> tuple[list, list]:
        from sr_search_evo import two_point_crossover

        return two_point_crossover(a, b, rng)

    def repair(self, ind: list, rng: random.Random) -> list:
        ind = list(ind)
        while sum(ind) < self.min_ones:
            ind[rng.randrange(self.length)] = 1
        return ind

    def feasible(self, ind: list) -> bool:
        return sum(ind) >= self.min_ones

    def decode(self, ind: list) -> list:
        return list(ind)

    def key(self, ind: list) -> str:
        return "".join(map(str, ind))

    def config(self) -> dict:
        return {"length": self.length, "min_ones": self.min_ones}


def onemax(bits: Sequence[int]) -> dict:
    return {"psnr": float(sum(bits))}


class HistoryWatcher:
    """fake_fitness that notes how many lines history.jsonl has each time it is called."""

    def __init__(self, history_path: str) -> None:
        self.history_path, self.lines_seen = history_path, []

    def __call__(self, genes: Sequence[str]) -> dict:
        try:
            with open(self.history_path) as stream:
                self.lines_seen.append(sum(1 for _ in stream))
        except FileNotFoundError:
            self.lines_seen.append(0)
        return fake_fitness(genes)


# -- faults of the environment, raised by real torch / import calls ----------------------------
ABSENT_DEVICE = "cuda:99"  # absent everywhere: CPU torch has no CUDA, a GPU machine no 100th GPU


class DeviceFitness:
    """fake_fitness after putting a tensor on `device` (as training would)."""

    def __init__(self, device: str) -> None:
        self.device = device

    def __call__(self, genes: Sequence[str]) -> dict:
        import torch

        torch.zeros(1, device=self.device)
        return fake_fitness(genes)


class ImportingFitness:
    """fake_fitness that imports `module` from call `from_call` on (counted in this process)."""

    def __init__(self, module: str, from_call: int = 1) -> None:
        self.module, self.from_call, self.calls = module, from_call, 0

    def __call__(self, genes: Sequence[str]) -> dict:
        import importlib

        self.calls += 1
        if self.calls >= self.from_call:
            importlib.import_module(self.module)
        return fake_fitness(genes)


def cuda_oom_fitness(genes: Sequence[str]) -> dict:
    """What torch raises when a CUDA allocation fails (its text, as torch words it)."""
    import torch

    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def nonfinite_loss_fitness(genes: Sequence[str]) -> dict:
    """A candidate whose training diverges: sr_train's own error, a failure of the candidate."""
    from sr_train import NonFiniteLossError

    raise NonFiniteLossError(3, float("nan"))


def unbuildable_fitness(genes: Sequence[str]) -> dict:
    """A candidate whose network cannot be built: sr_blocks' own error for a bad gene."""
    from sr_blocks import create_model

    create_model("esrn", scale=2, genes=["X_1_2_3"])
    raise AssertionError("unreachable: the gene is invalid")


class BlockOrFault:
    """The first call (across processes) writes its pid to `folder`/blocker and sleeps for an hour;
    every later call fails to import a module. Shows that a fault does not wait for a busy worker."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def __call__(self, genes: Sequence[str]) -> dict:
        import time

        try:
            fd = os.open(os.path.join(self.folder, "blocker"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            import sr_search_evo_no_such_module  # noqa: F401

            raise AssertionError("unreachable") from None
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        time.sleep(3600)
        return fake_fitness(genes)


class PidThenSleep:
    """Writes this worker's pid to `folder`/<pid> and sleeps for an hour: a search that never ends."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def __call__(self, genes: Sequence[str]) -> dict:
        import time

        with open(os.path.join(self.folder, f"{os.getpid()}.tmp"), "w") as stream:
            stream.write(str(os.getpid()))
        os.replace(
            os.path.join(self.folder, f"{os.getpid()}.tmp"), os.path.join(self.folder, str(os.getpid()))
        )
        time.sleep(3600)
        return fake_fitness(genes)


# -- latency screens --------------------------------------------------------------------------
def fake_latency_ms(genes: Sequence[str]) -> float:
    """A made-up latency that grows with the network's MACs on a small input (deterministic)."""
    from sr_search_evo import esrn_macs

    return round(esrn_macs(genes, (18, 32)) / 1e6, 6)


class CountingScreen:
    """A latency screen that counts its calls: fake_latency_ms, rejected above `limit` (if any)."""

    def __init__(self, limit: float | None = None) -> None:
        self.limit, self.calls = limit, []

    def __call__(self, genes: Sequence[str]) -> dict:
        self.calls.append(tuple(genes))
        result = {"latency_ms": fake_latency_ms(genes), "latency_source": "fake"}
        if self.limit is not None and result["latency_ms"] > self.limit:
            result["rejected"] = f"latency {result['latency_ms']} ms is above {self.limit}"
        return result

    def config(self) -> dict:
        return {"limit": self.limit}
