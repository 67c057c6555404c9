"""Accuracy statistics against published values and cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from qorch.jobs.compare.stats import (
    ComparisonError,
    accuracy,
    bootstrap_difference,
    compare_paired,
    mcnemar_exact,
    output_difference,
    per_class_accuracy,
    wilson,
)


# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Stat. Med. 17,
# Table I, method 3 (Wilson score interval without continuity correction).
@pytest.mark.parametrize(("correct", "total", "low", "high"), [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_intervals_match_newcombes_table(
    correct: int, total: int, low: float, high: float
) -> None:
    result = wilson(correct, total)
    assert (result.correct, result.total) == (correct, total)
    assert result.value == pytest.approx(correct / total)
    assert result.low == pytest.approx(low, abs=5e-5)
    assert result.high == pytest.approx(high, abs=5e-5)


def test_accuracy_counts_matches_and_wider_confidence_widens_the_interval() -> None:
    labels = np.array([0, 1, 2, 3] * 25)
    predictions = labels.copy()
    predictions[:19] = (labels[:19] + 1) % 4
    result = accuracy(predictions, labels)
    assert (result.correct, result.total, result.value) == (81, 100, 0.81)
    assert result.low < 0.81 < result.high
    wide = accuracy(predictions, labels, confidence=0.99)
    assert wide.low < result.low and wide.high > result.high and wide.confidence == 0.99


def pairs(both: int, only_a: int, only_b: int, neither: int) -> tuple[np.ndarray, ...]:
    """Predictions of A and B and the labels for a 2x2 table of (A right, B right)."""
    labels = np.zeros(both + only_a + only_b + neither, dtype=np.int64)
    a_right = np.repeat([True, True, False, False], [both, only_a, only_b, neither])
    b_right = np.repeat([True, False, True, False], [both, only_a, only_b, neither])
    return np.where(a_right, 0, 1), np.where(b_right, 0, 2), labels


def test_mcnemar_exact_matches_the_textbook_examples() -> None:
    # Fagerland, Lydersen & Laake (2013), BMC Med. Res. Methodol. 13:91, Table 1 (Bentur et
    # al.): 1 and 7 discordant pairs, exact conditional p = 0.070 (= 18/256).
    assert mcnemar_exact(1, 7) == pytest.approx(18 / 256)
    assert mcnemar_exact(7, 1) == pytest.approx(18 / 256)
    # Five discordant pairs all one way: the smallest exact p of n = 5, 2 / 2^5.
    assert mcnemar_exact(0, 5) == pytest.approx(0.0625)
    assert mcnemar_exact(0, 0) == 1.0
    result = compare_paired(*pairs(1, 1, 7, 12))
    assert (result.only_a, result.only_b) == (1, 7)
    assert result.mcnemar_p == pytest.approx(0.0703125)
    assert result.difference == pytest.approx(2 / 21 - 8 / 21)
    assert (result.a.correct, result.b.correct) == (2, 8)
    assert result.agreement == pytest.approx(1 / 21)  # wrong answers differ (1 vs 2)
    assert result.low <= result.difference <= result.high


def test_paired_bootstrap_matches_the_normal_interval_on_a_known_case() -> None:
    """A is always right, B right on 800 of 1000: the difference 0.2 has standard error
    sqrt(0.2 * 0.8 / 1000) = 0.0126, so the 95 % interval is about 0.175 .. 0.225."""
    a, b = np.ones(1000, dtype=bool), np.ones(1000, dtype=bool)
    b[::5] = False
    low, high = bootstrap_difference(a, b, seed=3)
    half = 1.959964 * np.sqrt(0.2 * 0.8 / 1000)
    assert low == pytest.approx(0.2 - half, abs=0.004)
    assert high == pytest.approx(0.2 + half, abs=0.004)
    assert bootstrap_difference(a, b, seed=3) == (low, high)  # seeded
    assert bootstrap_difference(a, b, seed=4) != (low, high)
    back_low, back_high = bootstrap_difference(b, a, seed=3)
    assert (back_low, back_high) == pytest.approx((-high, -low), abs=0.004)


def test_pairing_narrows_the_interval_when_classifiers_err_together() -> None:
    """Both wrong on the same 300 images, B also on 50 more: only those 50 carry the
    difference, so the paired interval is far narrower than two independent ones would be."""
    a, b = np.ones(1000, dtype=bool), np.ones(1000, dtype=bool)
    a[:300] = b[:350] = False
    low, high = bootstrap_difference(a, b, seed=1)
    assert 0.03 < low < 0.05 < high < 0.07
    assert high - low < 0.5 * 2 * 1.96 * np.sqrt(2 * 0.33 * 0.67 / 1000)


def test_identical_classifiers_differ_by_exactly_nothing() -> None:
    labels = np.arange(40) % 3
    predictions = np.where(np.arange(40) % 4 == 0, 0, labels)
    result = compare_paired(predictions, predictions.copy(), labels)
    assert (result.difference, result.low, result.high, result.mcnemar_p) == (0, 0, 0, 1.0)
    assert result.agreement == 1.0


def test_per_class_accuracy_with_intervals_in_label_order() -> None:
    labels = [0, 0, 0, 1, 1, 3]
    predictions = [0, 0, 1, 1, 0, 3]
    rows = per_class_accuracy(predictions, labels, ["zero", "one", "two", "three"])
    assert [(r.label, r.name) for r in rows] == [(0, "zero"), (1, "one"), (3, "three")]
    assert [(r.accuracy.correct, r.accuracy.total) for r in rows] == [(2, 3), (1, 2), (1, 1)]
    assert rows[0].accuracy == wilson(2, 3)
    with pytest.raises(ComparisonError, match="4 classes"):
        per_class_accuracy([0], [4], ["a", "b", "c", "d"])


def test_output_difference_of_known_arrays() -> None:
    a = np.zeros((2, 3))
    b = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 3.0]])
    gap = output_difference(a, b)
    assert gap.rows == 2 and gap.max_abs == 3.0
    assert gap.mean_abs == pytest.approx(5 / 6)
    assert gap.per_output == pytest.approx((0.5, 0.5, 1.5))
    assert gap.stderr == pytest.approx(np.std([2 / 3, 1.0], ddof=1) / np.sqrt(2))
    assert output_difference(b, b).mean_abs == 0.0


@pytest.mark.parametrize("call", [
    lambda: accuracy([1, 2], [1]),
    lambda: accuracy([], []),
    lambda: compare_paired([1, 2], [1, 2], [1, 2, 3]),
    lambda: output_difference(np.zeros((2, 3)), np.zeros((3, 2))),
    lambda: wilson(5, 4),
])
def test_inputs_that_do_not_line_up_are_refused(call: object) -> None:
    with pytest.raises(ComparisonError):
        call()  # type: ignore[operator]
