"""`RepStackSpace`: re-parameterisable plain stacks (`sr_blocks.repstack`), a latency-aware search space.

An individual is ``[global, head, tail, [active, body gene] x max_depth]``; the network is the global
gene, the head, the active body genes in order and the tail (`decode`, the `sr_blocks.repstack` gene
list). Every candidate deploys to a plain conv stack, so its measured latency is the shipped
network's, and its deployed parameters and MACs have a closed form (`repstack_params`,
`repstack_macs`) that the windows hold exactly. ECBSR-M4C16 and SESR-M5 are points of the space
when its choices include theirs (`sr_blocks.repstack.REPSTACK_PRESETS`).
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence

from sr_blocks.repstack import GLOBAL_FLAGS, LayerGene, RepStackGenes, parse_repstack_genes
from sr_search_evo.esr_space import FLOPS_LR_SIZE, _window_excess
from sr_search_evo.operators import two_point_crossover

REPAIR_STEPS = 20_000
IMAGE_RESIDUALS = ("none", "nearest", "bicubic")


def _conv_params(gene: LayerGene, in_channels: int) -> int:
    slopes = gene.width if gene.act == "prelu" else 0
    return gene.kernel * gene.kernel * in_channels * gene.width + gene.width + slopes


def repstack_params(genes: Sequence[str] | RepStackGenes, scale: int = 2) -> int:
    """Parameters of the deployed network of `genes` (convs, biases and PReLU slopes)."""
    spec = genes if isinstance(genes, RepStackGenes) else parse_repstack_genes(genes, scale)
    total, width = 0, 3
    for gene in (spec.head, *spec.body, spec.tail):
        total += _conv_params(gene, width)
        width = gene.width
    return total


def repstack_macs(genes: Sequence[str] | RepStackGenes, lr_size: Sequence[int], scale: int = 2) -> int:
    """Multiply-accumulates of the deployed network's convs on one `lr_size` (h, w) LR input."""
    spec = genes if isinstance(genes, RepStackGenes) else parse_repstack_genes(genes, scale)
    total, width = 0, 3
    for gene in (spec.head, *spec.body, spec.tail):
        total += gene.kernel * gene.kernel * width * gene.width
        width = gene.width
    return total * lr_size[0] * lr_size[1]


class RepStackSpace:
    """The choices of every layer and of the global residuals, and the windows a network must meet.

    Args:
        scale: upscaling factor.
        depth: [fewest, most] body layers.
        width: output widths a head or body layer may have.
        block: training-time blocks: conv, ecb, rep, lin<p> (SESR's linear block expanded to p).
        act: activations of the head and body layers: relu, prelu, none.
        head_kernel, tail_kernel: kernel sizes of the head and the tail (ecb is always 3x3).
        residual: image-space residuals: none, nearest, bicubic.
        long, center, clip: which of SESR's long residual, input centring and output clip may be
            on (a list of booleans: [false], [true] or [false, true]).
        max_params, min_params: window of deployed parameters (None: unbounded).
        max_flops, min_flops: window of deployed MACs on an `flops_lr_size` LR input.
        initial: gene lists the search's first generation starts from (e.g. the hand-designed
            `REPSTACK_PRESETS`), the rest of it drawn at random; each must be a point of the space.
    """

    def __init__(
        self,
        scale: int = 2,
        depth: Sequence[int] = (2, 8),
        width: Sequence[int] = (8, 12, 16, 24, 32),
        block: Sequence[str] = ("conv", "ecb", "rep", "lin256"),
        act: Sequence[str] = ("relu", "prelu", "none"),
        head_kernel: Sequence[int] = (3, 5),
        tail_kernel: Sequence[int] = (3, 5),
        residual: Sequence[str] = IMAGE_RESIDUALS,
        long: Sequence[bool] = (False, True),
        center: Sequence[bool] = (False, True),
        clip: Sequence[bool] = (False, True),
        max_params: int | None = None,
        min_params: int | None = None,
        max_flops: float | None = None,
        min_flops: float | None = None,
        flops_lr_size: Sequence[int] = FLOPS_LR_SIZE,
        initial: Sequence[Sequence[str]] = (),
    ) -> None:
        if len(depth) != 2 or not 0 <= depth[0] <= depth[1]:
            raise ValueError(f"RepStackSpace: depth must be [fewest, most] body layers, got {list(depth)}")
        for name, values in (("width", width), ("block", block), ("act", act), ("residual", residual)):
            if not values:
                raise ValueError(f"RepStackSpace: {name} needs at least one choice")
        for name, values in (("long", long), ("center", center), ("clip", clip)):
            if not values or any(not isinstance(v, bool) for v in values):
                raise ValueError(f"RepStackSpace: {name} must be a list of booleans, got {list(values)}")
        bad = [r for r in residual if r not in IMAGE_RESIDUALS]
        if bad:
            raise ValueError(f"RepStackSpace: residual {bad} is not one of {IMAGE_RESIDUALS}")
        if min_params is not None and max_params is not None and min_params > max_params:
            raise ValueError(f"RepStackSpace: min_params {min_params} is above max_params {max_params}")
        self.scale = scale
        self.depth = [int(depth[0]), int(depth[1])]
        self.width, self.block, self.act = list(width), list(block), list(act)
        self.head_kernel, self.tail_kernel = list(head_kernel), list(tail_kernel)
        self.residual = list(residual)
        self.long, self.center, self.clip = list(long), list(center), list(clip)
        self.max_params, self.min_params = max_params, min_params
        self.max_flops, self.min_flops = max_flops, min_flops
        self.flops_lr_size = [int(v) for v in flops_lr_size]
        for b in self.block:  # every choice parses (a bad block, width or activation fails here)
            for w in self.width:
                for a in self.act:
                    parse_repstack_genes(["plain", f"{b}_{w}_{a}", f"{b}_{w}_{a}", b], scale)
        for k in {*self.head_kernel, *self.tail_kernel}:
            parse_repstack_genes(["plain", f"conv{'' if k == 3 else f'k{k}'}_8_none", "conv"], scale)
        self.initial = [parse_repstack_genes(genes, scale).texts() for genes in initial]
        for genes in self.initial:
            try:
                ind = self.encode(genes)
            except ValueError as err:
                raise ValueError(f"RepStackSpace: initial network {genes}: {err}") from None
            problem = self._problem(ind)
            if problem is not None:
                raise ValueError(
                    f"RepStackSpace: initial network {genes} is not a point of the space: {problem}"
                )
            if self._excess(ind):
                costs = f"{self.count_params(genes):,} parameters, {self.count_macs(genes):,} MACs"
                raise ValueError(f"RepStackSpace: initial network {genes} ({costs}) is outside the windows")

    def initial_population(self) -> list[list]:
        """The individuals of `initial`: the first members of a new search's first generation."""
        return [self.encode(genes) for genes in self.initial]

    def config(self) -> dict:
        """The knobs (compared when a search resumes)."""
        names = ("scale", "depth", "width", "block", "act", "head_kernel", "tail_kernel", "residual")
        limits = ("long", "center", "clip", "max_params", "min_params", "max_flops", "min_flops")
        return {
            "type": "RepStack",
            **{n: getattr(self, n) for n in (*names, *limits)},
            "lr": self.flops_lr_size,
            **({"initial": self.initial} if self.initial else {}),
        }

    # -- genes ------------------------------------------------------------------------------------
    def _block_text(self, rng: random.Random, kernels: Sequence[int]) -> str:
        block = rng.choice(self.block)
        kernel = 3 if block == "ecb" else rng.choice(kernels)
        return f"{block}{'' if kernel == 3 else f'k{kernel}'}"

    def _layer(self, rng: random.Random, kernels: Sequence[int] = (3,)) -> str:
        return f"{self._block_text(rng, kernels)}_{rng.choice(self.width)}_{rng.choice(self.act)}"

    def _global(self, rng: random.Random) -> str:
        flags = [rng.choice(self.residual)]
        flags += [name for name in ("long", "center", "clip") if rng.choice(getattr(self, name))]
        return "+".join(f for f in GLOBAL_FLAGS if f in flags) or "plain"

    def decode(self, ind: list) -> list[str]:
        """The network's gene list (`sr_blocks.repstack`): global, head, active body genes, tail."""
        return [ind[0], ind[1], *(gene for active, gene in ind[3:] if active), ind[2]]

    def key(self, ind: list) -> str:
        return ",".join(self.decode(ind))

    def units(self, ind: list) -> list[str]:
        """The layers that earn credit in guided mutation: the active body genes."""
        return [gene for active, gene in ind[3:] if active]

    def count_params(self, genes: Sequence[str]) -> int:
        return repstack_params(genes, self.scale)

    def count_macs(self, genes: Sequence[str]) -> int:
        return repstack_macs(genes, self.flops_lr_size, self.scale)

    def _problem(self, ind: list) -> str | None:
        if len(ind) != 3 + self.depth[1] or any(len(node) != 2 for node in ind[3:]):
            return f"an individual is [global, head, tail, [active, gene] x {self.depth[1]}], got {ind!r}"
        active = sum(1 for a, _ in ind[3:] if a)
        if not self.depth[0] <= active <= self.depth[1]:
            return f"{active} active body layers, outside depth {self.depth}"
        try:
            parse_repstack_genes(self.decode(ind), self.scale)
        except ValueError as err:
            return str(err)
        return None

    def _excess(self, ind: list) -> float:
        genes = self.decode(ind)
        excess = _window_excess(self.count_params(genes), self.min_params, self.max_params)
        if self.min_flops is not None or self.max_flops is not None:
            excess += _window_excess(self.count_macs(genes), self.min_flops, self.max_flops)
        return excess

    def feasible(self, ind: list) -> bool:
        return self._problem(ind) is None and self._excess(ind) == 0

    # -- operators --------------------------------------------------------------------------------
    def sample(self, rng: random.Random) -> list:
        """A random network: every choice uniform, the depth uniform in the depth range."""
        depth = rng.randint(*self.depth)
        slots = [[int(i < depth), self._layer(rng)] for i in range(self.depth[1])]
        return [
            self._global(rng),
            self._layer(rng, self.head_kernel),
            self._block_text(rng, self.tail_kernel),
            *slots,
        ]

    def mutate(
        self, ind: list, rng: random.Random, rate: float, credit: Mapping[Hashable, float] | None = None
    ) -> list:
        """Redraw the global gene, the head, the tail and each body gene with probability `rate`, and
        switch each body slot on or off with probability `rate` (`credit` is not used)."""
        child = [ind[0], ind[1], ind[2], *([a, g] for a, g in ind[3:])]
        if rng.random() < rate:
            child[0] = self._global(rng)
        if rng.random() < rate:
            child[1] = self._layer(rng, self.head_kernel)
        if rng.random() < rate:
            child[2] = self._block_text(rng, self.tail_kernel)
        for node in child[3:]:
            if rng.random() < rate:
                node[0] = 1 - node[0]
            if rng.random() < rate:
                node[1] = self._layer(rng)
        return child

    def crossover(self, a: list, b: list, rng: random.Random) -> tuple[list, list]:
        """Swap one segment of body slots; the global genes, heads and tails each swap with chance 1/2."""
        body_a, body_b = two_point_crossover(a[3:], b[3:], rng)
        first, second = list(a[:3]), list(b[:3])
        for i in range(3):
            if rng.random() < 0.5:
                first[i], second[i] = second[i], first[i]
        return [*first, *(list(n) for n in body_a)], [*second, *(list(n) for n in body_b)]

    def _fix_structure(self, ind: list, rng: random.Random) -> list:
        """The depth range and the long residual's width rule, held by small changes."""
        child = [ind[0], ind[1], ind[2], *([a, g] for a, g in ind[3:])]
        on = [i for i, node in enumerate(child) if i >= 3 and node[0]]
        off = [i for i, node in enumerate(child) if i >= 3 and not node[0]]
        while len(on) < self.depth[0]:
            index = off.pop(rng.randrange(len(off)))
            child[index][0] = 1
            on.append(index)
        while len(on) > self.depth[1]:
            child[on.pop(rng.randrange(len(on)))][0] = 0
        on.sort()
        if "long" in child[0].split("+") and on:
            head_width = child[1].split("_")[1]
            last = child[on[-1]][1].split("_")
            child[on[-1]][1] = "_".join([last[0], head_width, last[2]])
        return child

    def repair(self, ind: list, rng: random.Random) -> list:
        """Hold the structure rules, then walk into the parameter and MACs windows one redraw at a time."""
        child = self._fix_structure(ind, rng)
        excess = self._excess(child)
        for _ in range(REPAIR_STEPS):
            if excess == 0 and self._problem(child) is None:
                return child
            proposal = self._fix_structure(self.mutate(child, rng, 0.15), rng)
            if self._problem(proposal) is None:
                new_excess = self._excess(proposal)
                if new_excess <= excess or self._problem(child) is not None:
                    child, excess = proposal, new_excess
        raise RuntimeError(
            f"RepStackSpace.repair: no network within min_params={self.min_params}, "
            f"max_params={self.max_params}, min_flops={self.min_flops}, max_flops={self.max_flops} "
            f"found after {REPAIR_STEPS} steps; widen the windows or the choices"
        )

    def encode(self, genes: Sequence[str]) -> list:
        """The individual of a gene list (its body in the first slots); ValueError if it does not fit."""
        genes = parse_repstack_genes(genes, self.scale).texts()
        body = genes[2:-1]
        if len(body) > self.depth[1]:
            raise ValueError(f"{len(body)} body layers do not fit depth {self.depth}")
        slots = [[1, g] for g in body] + [[0, body[-1] if body else genes[1]]] * (self.depth[1] - len(body))
        return [genes[0], genes[1], genes[-1], *(list(s) for s in slots)]
