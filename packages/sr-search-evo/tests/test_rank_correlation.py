"""Rank correlations against hand-worked cases (ties, reversals, a constant side)."""

import math

import pytest

from sr_search_evo.rank_correlation import kendall, ranks, spearman


def test_ties_share_their_average_rank():
    assert ranks([10.0, 30.0, 20.0, 30.0]) == [1.0, 3.5, 2.0, 3.5]


def test_same_and_reversed_order():
    a = [1.0, 2.0, 3.0, 4.0]
    assert spearman(a, [5.0, 6.0, 9.0, 10.0]) == pytest.approx(1.0)
    assert kendall(a, [5.0, 6.0, 9.0, 10.0]) == pytest.approx(1.0)
    assert spearman(a, a[::-1]) == pytest.approx(-1.0)
    assert kendall(a, a[::-1]) == pytest.approx(-1.0)


def test_one_swap_of_four():
    # ranks (1,2,3,4) vs (1,2,4,3): rho = 1 - 6*2/(4*15) = 0.8; tau = (5 - 1)/6
    a, b = [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 4.0, 3.0]
    assert spearman(a, b) == pytest.approx(0.8)
    assert kendall(a, b) == pytest.approx(4 / 6)


def test_kendall_tau_b_with_a_tie():
    # pairs: 5 concordant, 1 tied in b only -> (5 - 0) / sqrt(6 * 5)
    assert kendall([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 3.0]) == pytest.approx(5 / math.sqrt(30))


def test_a_constant_side_is_nan_and_bad_lengths_are_named():
    assert math.isnan(spearman([1.0, 2.0, 3.0], [7.0, 7.0, 7.0]))
    assert math.isnan(kendall([1.0, 2.0, 3.0], [7.0, 7.0, 7.0]))
    with pytest.raises(ValueError, match="same length"):
        spearman([1.0, 2.0], [1.0])
