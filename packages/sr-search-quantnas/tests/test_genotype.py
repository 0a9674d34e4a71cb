"""Genotypes: the QuantNAS README's example, round trips, the nested format, (op, weight bits,
activation bits) entries, safe parsing, derivation."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sr_search_quantnas.genotype import (
    Genotype_SR,
    GenotypeParseError,
    derive_genotype,
    layer_bits,
    parse_genotype,
)
from sr_search_quantnas.supernet import Supernet


def test_reference_genotype_parses(reference_genotype_text: str) -> None:
    genotype = parse_genotype(reference_genotype_text)
    assert genotype.head == [("simple_5x5_grouped_3", 8), ("simple_3x3", 8)]
    assert genotype.body == [("simple_1x1_grouped_3", 2), ("simple_1x1", 2)]
    assert genotype.tail == []
    assert genotype.skip == [("decenc_3x3_2", 2)]
    assert genotype.upsample == [("simple_3x3_grouped_3", 8)]


def test_round_trip(reference_genotype_text: str) -> None:
    genotype = parse_genotype(reference_genotype_text)
    text = str(genotype)
    assert text.startswith("Genotype_SR(head=[('simple_5x5_grouped_3', 8), ")
    assert parse_genotype(text) == genotype
    assert str(parse_genotype(text)) == text


def test_pairs_keep_their_meaning_activations_at_the_weight_bits(reference_genotype_text: str) -> None:
    genotype = parse_genotype(reference_genotype_text)
    assert str(genotype) == (
        "Genotype_SR(head=[('simple_5x5_grouped_3', 8), ('simple_3x3', 8)], "
        "body=[('simple_1x1_grouped_3', 2), ('simple_1x1', 2)], tail=[], skip=[('decenc_3x3_2', 2)], "
        "upsample=[('simple_3x3_grouped_3', 8)])"
    )
    assert [layer_bits(entry) for entry in genotype.head] == [
        ("simple_5x5_grouped_3", 8, 8),
        ("simple_3x3", 8, 8),
    ]
    assert layer_bits(genotype.skip[0]) == ("decenc_3x3_2", 2, 2)


SEPARATE = (
    "Genotype_SR(head=[('simple_3x3', 4, 8), ('simple_5x5', 8)], body=[('simple_1x1', 2, 32)], "
    "tail=[('simple_3x3', 4, 4)], skip=[('zero', 8, 4)], upsample=[('simple_3x3_grouped_3', 4, 8)])"
)


def test_weight_and_activation_triples_parse_print_and_round_trip() -> None:
    genotype = parse_genotype(SEPARATE)
    assert genotype.head == [("simple_3x3", 4, 8), ("simple_5x5", 8)]
    assert genotype.body == [("simple_1x1", 2, 32)]
    assert genotype.tail == [("simple_3x3", 4, 4)]  # written as a triple, kept as one
    assert layer_bits(genotype.head[0]) == ("simple_3x3", 4, 8)
    assert layer_bits(genotype.body[0]) == ("simple_1x1", 2, 32)
    with pytest.raises(ValueError, match=r"genotype entry must be .*got \('simple_3x3', 4, 8, 2\)"):
        layer_bits(("simple_3x3", 4, 8, 2))
    assert str(genotype) == SEPARATE
    assert parse_genotype(str(genotype)) == genotype
    spaced = "Genotype_SR(head=[( 'simple_3x3' , 4 , 8 , )], body=[], tail=[], skip=[], upsample=[])"
    assert parse_genotype(spaced).head == [("simple_3x3", 4, 8)]


def test_nested_format_with_triples_round_trips() -> None:
    text = (
        "Genotype_SR(head=[('simple_3x3', 8)], body=[[('simple_3x3', 4, 8)], [('simple_3x3', 8, 4)]], "
        "tail=[], skip=[[('simple_1x1', 4, 8)], [('simple_1x1', 4)]], upsample=[('simple_3x3', 8)])"
    )
    genotype = parse_genotype(text)
    assert genotype.body == [[("simple_3x3", 4, 8)], [("simple_3x3", 8, 4)]]
    assert str(genotype) == text


def test_nested_format_parses_and_round_trips(nested_genotype_text: str) -> None:
    genotype = parse_genotype(nested_genotype_text)
    assert genotype.head == []
    assert genotype.body[1] == [("simple_3x3", 32), ("simple_3x3", 32)]
    assert genotype.skip == [[("simple_1x1", 32)], [("simple_1x1", 32)]]
    assert parse_genotype(str(genotype)) == genotype


def test_code_is_rejected_without_running_it(tmp_path: Path) -> None:
    flag = tmp_path / "ran"
    payloads = [
        f"Genotype_SR(head=[(open({str(flag)!r}, 'w').write('x') and 'simple_3x3', 8)], body=[], tail=[], "
        "skip=[], upsample=[])",
        f"__import__('pathlib').Path({str(flag)!r}).touch()",
        f"Genotype_SR(head=[('simple_3x3', 8)], body=[], tail=[], skip=[], upsample=[]) or "
        f"open({str(flag)!r}, 'w')",
    ]
    for text in payloads:
        eval_would_run = compile(text, "<genotype>", "eval")  # valid Python: eval would have run it
        assert eval_would_run is not None
        with pytest.raises(GenotypeParseError, match="line 1, column"):
            parse_genotype(text)
    assert not flag.exists()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("Genotype_SR(head=[('simple_3x3', 8)],\n  body=[('simple_3x3' 8)])", "line 2, column 23"),
        ("Genotype_SR(head=[('simple_3x3', 8)], legs=[])", "line 1, column 39"),
        (
            "Genotype_SR(head=[('simple_3x3', 6)], body=[], tail=[], skip=[], upsample=[])",
            "line 1, column 34",
        ),
        ("Genotype_SR(head=[('conv_7x7', 8)], body=[], tail=[], skip=[], upsample=[])", "line 1, column 20"),
        (
            "Genotype_SR(head=[('simple_3x3', 8)], body=[], tail=[], skip=[], upsample=[]) extra",
            "line 1, column 79",
        ),
        ("Genotype_SR(head=[('simple_3x3', 8)])", "missing fields"),
        (
            "Genotype_SR(head=[('simple_3x3', 4, 5)], body=[], tail=[], skip=[], upsample=[])",
            "act_bits: unsupported bit width 5.*line 1, column 37",
        ),
        (
            "Genotype_SR(head=[('simple_3x3', 4, 8, 2)], body=[], tail=[], skip=[], upsample=[])",
            "expected '\\)' closing the layer entry, found '2' at line 1, column 40",
        ),
        (
            "Genotype_SR(head=[('simple_3x3', 4, 'a')], body=[], tail=[], skip=[], upsample=[])",
            "expected '\\)' closing the layer entry, found \"'a'\" at line 1, column 37",
        ),
        (
            "Genotype_SR(head=[[('simple_3x3', 8)], ('simple_3x3', 8)], body=[], tail=[], skip=[], "
            "upsample=[])",
            "mixes layers",
        ),
    ],
)
def test_bad_text_names_the_position(text: str, where: str) -> None:
    with pytest.raises(GenotypeParseError, match=where):
        parse_genotype(text)


def test_derive_takes_the_argmax_pair(reference_primitives: dict[str, list[str]]) -> None:
    pattern = {"head": 2, "body": 2, "skip": 1, "upsample": 1, "tail": 1}
    net = Supernet(2, 6, pattern, 1, [8, 4], reference_primitives)
    names = net.layer_names()
    assert names == ["head.0", "head.1", "body.0", "body.1", "skip.0", "upsample.0", "tail.0"]
    chosen = {}
    with torch.no_grad():
        for name, alpha in zip(names, net.alphas(), strict=True):
            block = name.split(".")[0]
            index = torch.randint(alpha.numel(), ()).item()
            alpha.normal_(0, 0.1)
            alpha[index] = 5.0
            chosen[name] = (reference_primitives[block][index // 2], (8, 4)[index % 2])
    genotype = derive_genotype(net)
    assert isinstance(genotype, Genotype_SR)
    for name, pair in chosen.items():
        block, i = name.split(".")
        assert getattr(genotype, block)[int(i)] == pair
    assert parse_genotype(str(genotype)) == genotype


def test_derive_with_all_negative_alphas_still_takes_the_argmax(
    reference_primitives: dict[str, list[str]],
) -> None:
    pattern = {"head": 1, "body": 1, "skip": 1, "upsample": 1, "tail": 0}
    net = Supernet(2, 6, pattern, 1, [8, 4], reference_primitives)
    with torch.no_grad():
        for alpha in net.alphas():
            alpha.fill_(-3.0)
            alpha[-1] = -1.0  # the reference's parser would pick op 0 here (it starts from 0)
    genotype = derive_genotype(net)
    assert genotype.head == [(reference_primitives["head"][-1], 4)]
    assert genotype.tail == []


def test_derive_takes_the_argmax_activation_width_when_searched_separately(
    reference_primitives: dict[str, list[str]],
) -> None:
    pattern = {"head": 1, "body": 1, "skip": 1, "upsample": 1, "tail": 1}
    net = Supernet(2, 6, pattern, 1, [8, 4], reference_primitives, act_bits=[8, 4, 2])
    with torch.no_grad():
        for alpha in net.alpha:
            alpha[3] = 1.0  # the second op at 4 bits
        for alpha, best in zip(net.act_alpha, [0, 1, 2, 0, 1], strict=True):
            alpha[best] = 1.0
    genotype = derive_genotype(net)
    assert genotype.head == [(reference_primitives["head"][1], 4, 8)]
    assert genotype.body == [(reference_primitives["body"][1], 4, 4)]
    assert genotype.skip == [(reference_primitives["skip"][1], 4, 2)]
    assert genotype.upsample == [(reference_primitives["upsample"][1], 4, 8)]
    assert genotype.tail == [(reference_primitives["tail"][1], 4, 4)]
    assert parse_genotype(str(genotype)) == genotype
