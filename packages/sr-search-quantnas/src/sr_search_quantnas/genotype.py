"""QuantNAS genotypes: the searched architecture as a printable, parseable value.

``Genotype_SR(head=[('simple_3x3', 8), ...], body=[...], tail=[...], skip=[...], upsample=[...])``,
one entry per layer: an ``(operation, bits)`` pair (the reference's notation: weights and
activations at ``bits``) or an ``(operation, weight_bits, act_bits)`` triple (activations at their
own width, e.g. ``('simple_3x3', 4, 8)`` for w4a8). ``str(genotype)`` prints that form and
`parse_genotype` reads it back, each entry as written. The later reference format (``body``/``skip``
as one list per cell, no head) parses too; its per-cell lists stay nested.

The reference reads genotype files with ``eval``, so a genotype file could run any code. Here the
text is tokenised and parsed by a small grammar that only knows the names, brackets, strings and
integers of a genotype; anything else is an error naming its line and column, and nothing in the
text is ever executed.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import torch

from sr_deploy.quant import check_bits
from sr_search_quantnas.ops import check_op_name
from sr_search_quantnas.quantizers import SUPPORTED_BITS

Layer = tuple  # (op_name, bits) or (op_name, weight_bits, act_bits)
Gene = list  # list[Layer] or, in the nested format, list[list[Layer]]
FIELDS = ("head", "body", "tail", "skip", "upsample")


class Genotype_SR(NamedTuple):  # noqa: N801 - the reference's name, kept so printed genotypes match
    """Per block type, the entry of each layer (see `layer_bits`); body/skip may be nested per cell."""

    head: Gene
    body: Gene
    tail: Gene
    skip: Gene
    upsample: Gene


class GenotypeParseError(ValueError):
    """A genotype text that does not parse; the message names the line and column."""


_TOKEN = re.compile(
    r"""(?P<space>\s+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<int>[+-]?\d+)|(?P<str>'[^'\\\n]*'|"[^"\\\n]*")"""
    r"""|(?P<punct>[()\[\]=,])"""
)


class _Token(NamedTuple):
    kind: str
    text: str
    pos: int


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {column}"


def _tokenize(text: str) -> list[_Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise GenotypeParseError(f"genotype: unexpected character {text[pos]!r} at {_where(text, pos)}")
        if match.lastgroup != "space":
            tokens.append(_Token(match.lastgroup, match.group(), pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent over: Genotype_SR ( field = list {, field = list} [,] )."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def error(self, message: str, token: _Token | None = None) -> GenotypeParseError:
        token = token or self.tokens[self.i]
        found = repr(token.text) if token.kind != "end" else "end of text"
        return GenotypeParseError(f"genotype: {message}, found {found} at {_where(self.text, token.pos)}")

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self, kind: str, text: str | None = None, what: str | None = None) -> _Token:
        token = self.peek()
        if token.kind != kind or (text is not None and token.text != text):
            raise self.error(f"expected {what or text or kind}")
        self.i += 1
        return token

    def genotype(self) -> Genotype_SR:
        self.take("name", "Genotype_SR")
        self.take("punct", "(")
        values: dict[str, list] = {}
        while self.peek().text != ")":
            field = self.take("name", what="a field name (" + ", ".join(FIELDS) + ")")
            if field.text not in FIELDS:
                raise self.error(f"unknown field (expected one of {', '.join(FIELDS)})", field)
            if field.text in values:
                raise self.error("field given twice", field)
            self.take("punct", "=")
            values[field.text] = self.gene_list(depth=0)
            if self.peek().text != ")":
                self.take("punct", ",", "',' or ')'")
        missing = [f for f in FIELDS if f not in values and f != "head"]
        if missing:
            raise self.error(f"missing fields {missing}")
        self.take("punct", ")")
        self.take("end", what="end of text")
        return Genotype_SR(**{f: values.get(f, []) for f in FIELDS})

    def gene_list(self, depth: int) -> list:
        self.take("punct", "[")
        items: list = []
        while self.peek().text != "]":
            if self.peek().text == "[" and depth == 0:
                items.append(self.gene_list(depth=1))
            else:
                items.append(self.layer())
            if self.peek().text != "]":
                self.take("punct", ",", "',' or ']'")
        self.take("punct", "]")
        nested = [isinstance(item, list) for item in items]
        if any(nested) and not all(nested):
            raise self.error("a list mixes layers and per-cell lists")
        return items

    def layer(self) -> Layer:
        self.take("punct", "(", "'(' starting an (op_name, bits) or (op_name, weight_bits, act_bits) entry")
        name_token = self.take("str", what="an op name in quotes")
        name = name_token.text[1:-1]
        try:
            check_op_name(name)
        except ValueError as err:
            raise self.error(str(err), name_token) from None
        self.take("punct", ",")
        widths = [self.bit_width("bits")]
        if self.peek().text == ",":
            self.take("punct", ",")
            if self.peek().kind == "int":
                widths.append(self.bit_width("act_bits"))
                if self.peek().text == ",":
                    self.take("punct", ",")
        self.take("punct", ")", "')' closing the layer entry")
        return (name, *widths)

    def bit_width(self, what: str) -> int:
        token = self.take("int", what="a bit width")
        try:
            return check_bits(int(token.text), what, SUPPORTED_BITS)
        except ValueError as err:
            raise self.error(str(err), token) from None


def parse_genotype(text: str) -> Genotype_SR:
    """Parse a printed genotype (``str(genotype)`` or a reference ``.gen`` file) without evaluating it.

    Raises GenotypeParseError (a ValueError) naming the line and column of the first problem.
    """
    if not isinstance(text, str):
        raise GenotypeParseError(f"genotype: expected text, got {type(text).__name__}")
    return _Parser(text).genotype()


def layer_bits(entry: Layer) -> tuple[str, int, int]:
    """``(op_name, weight_bits, act_bits)`` of a genotype entry; a pair's activations are at its bits."""
    if not isinstance(entry, tuple) or len(entry) not in (2, 3):
        raise ValueError(
            f"genotype entry must be (op_name, bits) or (op_name, weight_bits, act_bits), got {entry!r}"
        )
    if len(entry) == 2:
        name, bits = entry
        return name, bits, bits
    name, weight_bits, act_bits = entry
    return name, weight_bits, act_bits


def is_nested(gene: Gene) -> bool:
    """True when ``gene`` is the later per-cell format (a list of lists of layers)."""
    return bool(gene) and isinstance(gene[0], list)


def derive_genotype(supernet: torch.nn.Module) -> Genotype_SR:
    """The discrete architecture of a `Supernet`: per layer the (op, bits) pair of highest alpha, and
    when the supernet searches activation bits separately, the activation width of highest alpha
    too (an (op, weight_bits, act_bits) triple).

    Ties go to the first candidate (op-major, then bit widths in the supernet's order).
    """
    genes: dict[str, list[Layer]] = {field: [] for field in FIELDS}
    bits, act_bits = supernet.bits, supernet.act_bits
    act_alphas = list(supernet.act_alpha) if act_bits is not None else [None] * len(supernet.alpha)
    with torch.no_grad():
        for name, alpha, act_alpha in zip(supernet.layer_names(), supernet.alpha, act_alphas, strict=True):
            block = name.split(".")[0]
            best = int(torch.argmax(alpha.detach()))
            entry = (supernet.primitives[block][best // len(bits)], int(bits[best % len(bits)]))
            if act_alpha is not None:
                entry = (*entry, int(act_bits[int(torch.argmax(act_alpha.detach()))]))
            genes[block].append(entry)
    return Genotype_SR(**genes)
