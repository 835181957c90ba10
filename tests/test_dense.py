"""The in-memory search ranks sections by their best vector, exactly, best first, with
ties kept in a stable order."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from bot.store import DenseIndex, top_indices


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


@given(
    st.lists(st.integers(min_value=-3, max_value=3), max_size=40),
    st.integers(min_value=-1, max_value=45),
)
def test_the_top_scores_come_in_the_order_a_stable_sort_of_all_of_them_gives(
    scores: list[int], k: int
) -> None:
    array = np.array(scores, dtype=np.float64)
    expected = list(np.argsort(-array, kind="stable")[: max(k, 0)])
    assert list(top_indices(array, k)) == expected


def test_a_section_scores_as_its_best_vector_not_its_average() -> None:
    index = DenseIndex(
        ["long#0", "short#0", "long#1", "long#2"],
        np.stack([unit(1, 1, 0), unit(1, 0.3, 0), unit(0, 0, 1), unit(1, 0, 0)]),
    )
    (ranking,) = index.search_many([unit(1, 0, 0)], 2)
    assert [section for section, _ in ranking] == ["long", "short"]
    assert ranking[0][1] == np.float32(1.0)
    assert ranking[1][1] == float(unit(1, 0.3, 0)[0])


def test_each_query_gets_its_own_ranking_and_never_more_sections_than_exist() -> None:
    index = DenseIndex(["a#0", "b#0", "b#1"], np.stack([unit(1, 0), unit(0, 1), unit(1, 1)]))
    x_first, y_first = index.search_many([unit(1, 0), unit(0, 1)], 10)
    assert [s for s, _ in x_first] == ["a", "b"]
    assert [s for s, _ in y_first] == ["b", "a"]


def test_an_empty_index_finds_nothing() -> None:
    index = DenseIndex([], np.zeros(0, dtype=np.float32))
    assert index.search_many([unit(1, 0)], 4) == [[]]
    assert len(index) == 0
