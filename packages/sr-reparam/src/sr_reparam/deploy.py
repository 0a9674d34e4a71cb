"""The re-parameterisation protocol, the `deploy` walker and the plain-network check.

A module with a (multi-branch, over-parameterised) training form and a cheaper inference form
implements ``reparameterize() -> nn.Module``, returning a new module (usually one ``nn.Conv2d``,
maybe followed by an activation) that computes the same function. ``deploy`` copies a model and
swaps every such module for its inference form once, so the fused kernels are never recomputed
at inference time.
"""

from __future__ import annotations

import copy
from typing import Protocol, runtime_checkable

from torch import nn

PLAIN_LEAVES: tuple[type[nn.Module], ...] = (
    nn.Conv2d,
    nn.ConvTranspose2d,
    nn.PixelShuffle,
    nn.Identity,
    nn.ReLU,
    nn.ReLU6,
    nn.PReLU,
    nn.LeakyReLU,
    nn.RReLU,
    nn.Softplus,
    nn.SiLU,
    nn.GELU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardswish,
    nn.Hardtanh,
)
"""Leaf module types a deployed network may consist of: convs, activations and pixel shuffles."""


@runtime_checkable
class Reparameterizable(Protocol):
    """A module that can return its inference form (same function, plain layers)."""

    def reparameterize(self) -> nn.Module: ...


def _replace_children(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, Reparameterizable):
            replacement = child.reparameterize()
            _replace_children(replacement)
            setattr(module, name, replacement)
        else:
            _replace_children(child)


def deploy(model: nn.Module, inplace: bool = False) -> nn.Module:
    """Return ``model`` with every `Reparameterizable` submodule replaced by its inference form.

    The model is deep-copied first unless ``inplace``; the result is put in eval mode. If the model
    itself is reparameterizable its own ``reparameterize()`` is used.
    """
    target = model if inplace else copy.deepcopy(model)
    if isinstance(target, Reparameterizable):
        target = target.reparameterize()
    _replace_children(target)
    return target.eval()


def plain_violations(model: nn.Module) -> list[str]:
    """Reasons why ``model`` is not a plain conv/activation/pixel-shuffle network (empty if it is)."""
    problems = []
    for name, module in model.named_modules():
        label = name or "<root>"
        if isinstance(module, Reparameterizable):
            problems.append(f"{label} ({type(module).__name__}) still has reparameterize()")
        elif not any(True for _ in module.children()):
            if not isinstance(module, PLAIN_LEAVES):
                problems.append(f"{label} is a {type(module).__name__}, not a conv/activation/pixel shuffle")
        elif any(True for _ in module.parameters(recurse=False)):
            problems.append(f"{label} ({type(module).__name__}) holds parameters outside plain layers")
    return problems


def undeployed_modules(model: nn.Module) -> list[str]:
    """Names of the submodules that still have a training form (``reparameterize()``)."""
    return [name or "<root>" for name, m in model.named_modules() if isinstance(m, Reparameterizable)]


def is_plain(model: nn.Module) -> bool:
    """True when every layer of ``model`` is a conv, an activation or a pixel shuffle."""
    return not plain_violations(model)


def assert_plain(model: nn.Module) -> None:
    """Raise ``AssertionError`` listing every non-plain layer of ``model``."""
    problems = plain_violations(model)
    if problems:
        raise AssertionError("model is not plain:\n  " + "\n  ".join(problems))
