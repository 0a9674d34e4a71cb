"""`ESRSpace`: ESR_EA's search space, a fixed-length encoding with an active bit per node.

An individual is `node_num` nodes `[active, gene]` (active 0/1, gene a block 'T_C_G_O'); the
network is the list of active genes in order. Genes are drawn from every block type x conv count
x growth rate x output width (an output width from `growth_rate` no smaller than the growth), with
probability type_prob * conv_prob * growth_prob[growth] * growth_prob[out], as ESR_EA does. The
constraints are at least `min_active` active nodes, `min_params` <= exact parameter count <=
`max_params` and `min_flops` <= exact MACs for a `flops_lr_size` input <= `max_flops`; `repair`
restores them with small random changes.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from sr_blocks.esrn import parse_gene
from sr_search_evo.esr_macs import esrn_macs
from sr_search_evo.esr_params import esrn_params
from sr_search_evo.operators import two_point_crossover

REPAIR_STEPS = 200_000  # proposals before repair gives up on the parameter and MACs windows
SEGMENT_MIN_NODES = 4  # ESR_EA swaps segments of at least 4 nodes
FLOPS_LR_SIZE = (360, 640)  # LR (h, w) of the MACs window: a 1280x720 output at x2, as vega counts
# Knobs added after the first release: config() names them only when set, so a search started
# before they existed still resumes.
LATER_KNOBS = {"max_flops": None, "min_flops": None}


def _window_excess(value: int, low: float | None, high: float | None) -> float:
    """How far `value` lies outside [low, high], relative to the window's size (0 inside)."""
    below = low - value if low is not None else 0
    above = value - high if high is not None else 0
    outside = max(0, below, above)
    return outside / max(1, high if high is not None else low) if outside else 0.0


def _weights(choices: str, values: Sequence[Any], probs_name: str, probs: Sequence[float]) -> list[float]:
    if len(values) != len(probs):
        raise ValueError(f"ESRSpace: {probs_name} has {len(probs)} entries but {choices} has {len(values)}")
    if any(p < 0 for p in probs) or not any(p > 0 for p in probs):
        raise ValueError(f"ESRSpace: {probs_name} must be >= 0 and not all 0, got {list(probs)}")
    return [float(p) for p in probs]


class ESRSpace:
    """The ESR_EA search space with ESR_EA's knobs (names as in its YAML).

    Args:
        scale, G0: upscaling factor and frame width of the networks.
        block_type, conv_num, growth_rate: the choices for each block; output widths come from
            growth_rate too (never below the block's growth rate).
        type_prob, conv_prob, growth_prob: relative probabilities of those choices.
        node_num: encoding length (the most blocks a network can have).
        min_active: the fewest active blocks.
        max_params, min_params: the parameter window (None: unbounded), exact counts.
        max_flops, min_flops: the window of multiply-accumulates (MACs, not 2x MACs: vega's key
            names, our unit) of one forward pass on an `flops_lr_size` (h, w) input (None:
            unbounded), exact counts.
        flops_lr_size: the LR input size the MACs window is counted for (default 360x640).
    """

    def __init__(
        self,
        scale: int = 2,
        G0: int = 32,  # the paper's name
        block_type: Sequence[str] = ("S", "G", "C"),
        conv_num: Sequence[int] = (4, 6, 8),
        growth_rate: Sequence[int] = (8, 16, 24, 32),
        type_prob: Sequence[float] = (1, 1, 1),
        conv_prob: Sequence[float] = (1, 1, 1),
        growth_prob: Sequence[float] = (1, 1, 1, 1),
        node_num: int = 20,
        min_active: int = 1,
        max_params: int | None = None,
        min_params: int | None = None,
        max_flops: float | None = None,
        min_flops: float | None = None,
        flops_lr_size: Sequence[int] = FLOPS_LR_SIZE,
    ) -> None:
        if not isinstance(node_num, int) or node_num < 1:
            raise ValueError(f"ESRSpace: node_num must be a positive integer, got {node_num!r}")
        if not isinstance(min_active, int) or not 1 <= min_active <= node_num:
            raise ValueError(f"ESRSpace: min_active must be in [1, node_num={node_num}], got {min_active!r}")
        if not isinstance(G0, int) or G0 < 1:
            raise ValueError(f"ESRSpace: G0 must be a positive integer, got {G0!r}")
        if min_params is not None and max_params is not None and min_params > max_params:
            raise ValueError(f"ESRSpace: min_params {min_params} is above max_params {max_params}")
        if min_flops is not None and max_flops is not None and min_flops > max_flops:
            raise ValueError(f"ESRSpace: min_flops {min_flops} is above max_flops {max_flops}")
        if len(flops_lr_size) != 2 or any(not isinstance(v, int) or v < 1 for v in flops_lr_size):
            raise ValueError(
                f"ESRSpace: flops_lr_size must be [height, width] > 0, got {list(flops_lr_size)}"
            )
        self.scale, self.G0 = scale, G0
        self.block_type, self.conv_num, self.growth_rate = list(block_type), list(conv_num), list(growth_rate)
        self.type_prob = _weights("block_type", block_type, "type_prob", type_prob)
        self.conv_prob = _weights("conv_num", conv_num, "conv_prob", conv_prob)
        self.growth_prob = _weights("growth_rate", growth_rate, "growth_prob", growth_prob)
        self.node_num, self.min_active = node_num, min_active
        self.max_params, self.min_params = max_params, min_params
        self.max_flops, self.min_flops = max_flops, min_flops
        self.flops_lr_size = [int(v) for v in flops_lr_size]
        self.choices, self.choice_weights = self._catalog()
        self._choice_set = set(self.choices)
        try:  # an unsupported scale fails here, not mid-search
            esrn_params([self.choices[0]], G0, scale)
        except ValueError as err:
            raise ValueError(f"ESRSpace: scale {scale!r}: {err}") from None

    def _catalog(self) -> tuple[list[str], list[float]]:
        genes, weights = [], []
        for kind, type_p in zip(self.block_type, self.type_prob, strict=True):
            for convs, conv_p in zip(self.conv_num, self.conv_prob, strict=True):
                for g_index, growth in enumerate(self.growth_rate):
                    for o_index in range(g_index, len(self.growth_rate)):
                        text = f"{kind}_{convs}_{growth}_{self.growth_rate[o_index]}"
                        try:
                            parse_gene(text)
                        except ValueError as err:
                            raise ValueError(
                                f"ESRSpace: block_type/conv_num/growth_rate give the block {text}, "
                                f"which cannot be built: {err}"
                            ) from None
                        weight = type_p * conv_p * self.growth_prob[g_index] * self.growth_prob[o_index]
                        if weight > 0:
                            genes.append(text)
                            weights.append(weight)
        if not genes:
            raise ValueError("ESRSpace: every block choice has probability 0")
        return genes, weights

    def config(self) -> dict:
        """The knobs, by their names in ESR_EA's config (the MACs window and its LR size only when
        one is set)."""
        names = (
            "scale",
            "G0",
            "block_type",
            "conv_num",
            "growth_rate",
            "type_prob",
            "conv_prob",
            "growth_prob",
            "node_num",
            "min_active",
            "max_params",
            "min_params",
        )
        knobs = {name: getattr(self, name) for name in names}
        later = {
            name: getattr(self, name) for name, unset in LATER_KNOBS.items() if getattr(self, name) != unset
        }
        if later:
            later["flops_lr_size"] = self.flops_lr_size
        return {**knobs, **later}

    # -- encoding ---------------------------------------------------------------------------------
    def _check(self, ind: list) -> None:
        if len(ind) != self.node_num:
            raise ValueError(f"ESRSpace: an individual has node_num={self.node_num} nodes, got {len(ind)}")
        for node in ind:
            if len(node) != 2 or node[0] not in (0, 1) or node[1] not in self._choice_set:
                raise ValueError(f"ESRSpace: node {node!r} is not [0|1, one of the space's genes]")

    def decode(self, ind: list) -> list[str]:
        """The network: the genes of the active nodes, in order."""
        return [gene for active, gene in ind if active]

    def key(self, ind: list) -> str:
        return ",".join(self.decode(ind))

    def units(self, ind: list) -> list[str]:
        """The blocks that earn credit in guided mutation: the active genes."""
        return self.decode(ind)

    def count_params(self, genes: Sequence[str]) -> int:
        """Exact parameters of the ESRN made of `genes`."""
        return esrn_params(genes, self.G0, self.scale)

    def count_macs(self, genes: Sequence[str]) -> int:
        """Exact MACs of the ESRN made of `genes` for an `flops_lr_size` input."""
        return esrn_macs(genes, tuple(self.flops_lr_size), self.G0, self.scale)

    def _excess(self, ind: list) -> float:
        """How far the network is outside the parameter and MACs windows, relative to their sizes."""
        genes = self.decode(ind)
        if not genes:
            return float(1 << 62)
        excess = _window_excess(self.count_params(genes), self.min_params, self.max_params)
        if self.min_flops is not None or self.max_flops is not None:
            excess += _window_excess(self.count_macs(genes), self.min_flops, self.max_flops)
        return excess

    def feasible(self, ind: list) -> bool:
        self._check(ind)
        return len(self.decode(ind)) >= self.min_active and self._excess(ind) == 0

    # -- operators --------------------------------------------------------------------------------
    def _draw_gene(self, rng: random.Random, credit: Mapping[Hashable, float] | None = None) -> str:
        weights = self.choice_weights
        if credit:
            # Guided: a block's chance grows with its credit (unknown blocks count as average).
            weights = [w * (0.5 + credit.get(g, 0.5)) for g, w in zip(self.choices, weights, strict=True)]
        return rng.choices(self.choices, weights=weights)[0]

    def sample(self, rng: random.Random) -> list:
        """Random nodes: each active with probability 1/2, its gene drawn by the space's probabilities."""
        return [[int(rng.random() < 0.5), self._draw_gene(rng)] for _ in range(self.node_num)]

    def mutate(
        self, ind: list, rng: random.Random, rate: float, credit: Mapping[Hashable, float] | None = None
    ) -> list:
        """Flip each active bit with probability `rate`, then redraw each active gene with probability `rate`.

        With `credit` (block-credit guided mutation), a gene with credit c is redrawn with probability
        rate * 2 * (1 - c) (low-credit blocks are replaced first; average credit keeps `rate`) and
        the replacement favours high-credit blocks.
        """
        child = [[active, gene] for active, gene in ind]
        for node in child:
            if rng.random() < rate:
                node[0] = 1 - node[0]
        for node in child:
            if not node[0]:
                continue
            chance = rate if credit is None else min(1.0, rate * 2.0 * (1.0 - credit.get(node[1], 0.5)))
            if rng.random() < chance:
                node[1] = self._draw_gene(rng, credit)
        return child

    def crossover(self, a: list, b: list, rng: random.Random) -> tuple[list, list]:
        """Swap one segment of nodes (at least 4, at most node_num/2) between the parents."""
        first, second = two_point_crossover(a, b, rng, min_length=SEGMENT_MIN_NODES)
        return [list(n) for n in first], [list(n) for n in second]

    def repair(self, ind: list, rng: random.Random) -> list:
        """Activate random nodes up to `min_active`, then walk into the parameter and MACs windows.

        The walk proposes one change at a time (redraw an active gene, or switch a node on or off
        within the node limits) and keeps it unless it moves the count further from the window.
        """
        self._check(ind)
        child = [[active, gene] for active, gene in ind]
        inactive = [i for i, (active, _) in enumerate(child) if not active]
        while self.node_num - len(inactive) < self.min_active:
            child[inactive.pop(rng.randrange(len(inactive)))][0] = 1
        excess = self._excess(child)
        for _ in range(REPAIR_STEPS):
            if excess == 0:
                return child
            proposal = [list(node) for node in child]
            active = [i for i, (a, _) in enumerate(proposal) if a]
            if rng.random() < 0.8:
                proposal[rng.choice(active)][1] = self._draw_gene(rng)
            else:
                index = rng.randrange(self.node_num)
                if proposal[index][0] and len(active) <= self.min_active:
                    continue
                proposal[index][0] = 1 - proposal[index][0]
            new_excess = self._excess(proposal)
            if new_excess <= excess:
                child, excess = proposal, new_excess
        if excess == 0:
            return child
        windows = f"min_params={self.min_params}, max_params={self.max_params}"
        if self.min_flops is not None or self.max_flops is not None:
            low, high = (f"{v:g}" if v is not None else None for v in (self.min_flops, self.max_flops))
            windows += f", min_flops={low}, max_flops={high} (MACs, LR {self.flops_lr_size})"
        raise RuntimeError(
            f"ESRSpace.repair: no network within {windows} found after {REPAIR_STEPS} steps (nearest was "
            f"{excess:.3g} of a window's size outside); widen the windows or change "
            "node_num/min_active/growth_rate"
        )
