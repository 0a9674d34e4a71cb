"""Genotypes: the QuantNAS README's example, round trips, the nested format, safe parsing, derivation."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sr_search_quantnas.genotype import Genotype_SR, GenotypeParseError, derive_genotype, parse_genotype
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
