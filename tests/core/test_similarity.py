"""core.similarity without the model: vector storage, ranking, theme centroids, the lexical
fallback and the distinctive words of a theme (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from crmcompanion.core import similarity as S

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "similar_complaints.json"


def unit(*values: float) -> np.ndarray:
    return S.normalise_rows(np.array([values], dtype=np.float32))[0]


# --- vectors ---------------------------------------------------------------------------------
def test_a_vector_survives_its_bytes_as_little_endian_float32() -> None:
    vector = np.array([0.5, -1.25, 3.0], dtype=np.float64)
    blob = S.to_bytes(vector)
    assert blob == np.array([0.5, -1.25, 3.0], dtype="<f4").tobytes()
    assert len(blob) == 12
    back = S.from_bytes(blob)
    assert back.dtype == np.dtype("<f4")
    assert back.tolist() == [0.5, -1.25, 3.0]


def test_bytes_that_are_no_float32_run_are_refused() -> None:
    with pytest.raises(ValueError, match="7 bytes"):
        S.from_bytes(b"\x00" * 7)


def test_stored_vectors_stack_into_one_matrix_and_a_wrong_width_is_named() -> None:
    blobs = [S.to_bytes(np.array([i, i + 1], dtype=np.float32)) for i in range(3)]
    matrix = S.stack_vectors(blobs, 2)
    assert matrix.shape == (3, 2)
    assert matrix.dtype == np.float32
    assert matrix[2].tolist() == [2.0, 3.0]
    assert S.stack_vectors([], 4).shape == (0, 4)
    with pytest.raises(ValueError, match="stored vector 1 has 12 bytes, expected 8"):
        S.stack_vectors([blobs[0], S.to_bytes(np.zeros(3))], 2)


# --- rank --------------------------------------------------------------------------------------
def test_rank_puts_the_most_similar_rows_first() -> None:
    matrix = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(1, 1, 0), unit(-1, 0, 0)])
    indices, scores = S.rank(unit(1, 0.2, 0), matrix, 3)
    assert indices.tolist() == [0, 2, 1]
    assert scores[0] > scores[1] > scores[2]
    assert scores[0] == pytest.approx(float(unit(1, 0.2, 0) @ unit(1, 0, 0)), abs=1e-6)


def test_rank_keeps_tied_rows_in_stored_order_and_copes_with_k_beyond_the_rows() -> None:
    same = unit(0, 1)
    matrix = np.stack([unit(1, 0), same, same, same, unit(1, 1)])
    assert S.rank(same, matrix, 2)[0].tolist() == [1, 2]
    assert S.rank(same, matrix, 50)[0].tolist() == [1, 2, 3, 4, 0]
    assert S.rank(same, matrix[:0], 5)[0].tolist() == []


def test_a_zero_query_is_similar_to_nothing() -> None:
    matrix = np.stack([unit(1, 0), unit(0, 1)])
    indices, scores = S.rank(np.zeros(2, dtype=np.float32), matrix, 2)
    assert indices.size == 0 and scores.size == 0
    assert S.suggest_themes(np.zeros(2, dtype=np.float32), matrix, [["a"], ["b"]]) == []


# --- themes ------------------------------------------------------------------------------------
def test_theme_centroids_are_the_normalised_means_of_the_rows_carrying_each_theme() -> None:
    matrix = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1), unit(1, 1, 0)])
    themes = [["late"], ["late", "rude"], [], ["rude", "rude"]]
    centroids = S.theme_centroids(matrix, themes)
    assert centroids.theme_ids == ("late", "rude")
    assert centroids.sizes == (2, 2)  # "rude" listed twice on row 3 counts once
    expected_late = S.normalise_rows((matrix[0] + matrix[1])[None])[0]
    expected_rude = S.normalise_rows((matrix[1] + matrix[3])[None])[0]
    assert np.allclose(centroids.matrix, np.stack([expected_late, expected_rude]), atol=1e-6)
    # One theme a row at most takes another path: the same centroids.
    single = S.theme_centroids(matrix, [["late"], [], ["rude"], ["late"]])
    assert single.theme_ids == ("late", "rude") and single.sizes == (2, 1)
    assert np.allclose(single.matrix[0], S.normalise_rows((matrix[0] + matrix[3])[None])[0])
    assert np.allclose(single.matrix[1], matrix[2])
    assert S.theme_centroids(matrix, [[], [], [], []]).theme_ids == ()
    with pytest.raises(ValueError, match="3 theme lists for 4 rows"):
        S.theme_centroids(matrix, [[], [], []])


def test_suggest_themes_ranks_by_the_theme_centroid_not_the_biggest_theme() -> None:
    # "big" has many rows, all far from the query; "small" one row close to it.
    matrix = np.stack([unit(0, 1, 0)] * 6 + [unit(1, 0.1, 0)] + [unit(0, 0, 1)])
    themes = [["big"]] * 6 + [["small"]] + [["other"]]
    suggestions = S.suggest_themes(unit(1, 0, 0), matrix, themes, 2)
    assert [s.theme_id for s in suggestions] == ["small", "big"]
    assert suggestions[0].complaints == 1 and suggestions[1].complaints == 6
    assert suggestions[0].score > suggestions[1].score
    cached = S.theme_centroids(matrix, themes)
    assert S.suggest_themes(unit(1, 0, 0), matrix, themes, 2, centroids=cached) == suggestions


# --- words -------------------------------------------------------------------------------------
def test_stop_words_of_four_languages_and_single_letters_are_dropped() -> None:
    assert S.content_words("The parcel didn't arrive, it was late!") == ["parcel", "arrive",
                                                                        "late"]
    assert S.content_words("Die Lieferung kam leider nicht") == ["lieferung", "kam", "leider"]
    assert S.content_words("Le serveur était très désagréable") == ["serveur",
                                                                   "desagreable"]
    assert S.content_words("La reserva no estaba en el sistema") == ["reserva", "sistema"]
    assert S.content_words("order 2-3 days, error 500") == ["order", "days", "error", "500"]


@pytest.mark.parametrize(("word", "stem"), [
    ("bookings", "book"), ("booked", "book"), ("booking", "book"),
    ("deliveries", "delivery"), ("shipped", "ship"), ("called", "call"), ("class", "class"),
    ("bus", "bus"), ("prices", "price"), ("red", "red"),
])
def test_the_light_stem_maps_forms_of_a_word_together(word: str, stem: str) -> None:
    assert S.stem(word) == stem


# --- lexical fallback ----------------------------------------------------------------------------
def test_the_lexical_index_finds_other_forms_of_a_word_and_ignores_stop_words() -> None:
    index = S.LexicalIndex([
        "We booked a table and the booking was gone",
        "The invoice charged me twice",
        "The the the and of",
    ])
    indices, scores = index.rank("my bookings vanished", 3)
    assert indices.tolist() == [0]
    assert 0 < scores[0] <= 1
    assert index.rank("the and of", 3)[0].tolist() == []  # nothing but stop words
    assert index.rank("", 3)[0].tolist() == []
    assert len(index) == 3


def test_the_lexical_fallback_votes_themes_from_the_matching_rows() -> None:
    index = S.LexicalIndex(["late parcel", "late courier", "rude waiter", "parcel damaged"])
    themes = [["delivery"], ["delivery"], ["staff"], ["broken", "delivery"]]
    offered = index.suggest_themes("the parcel is late", themes, 3)
    assert [s.theme_id for s in offered] == ["delivery", "broken"]
    assert offered[0].complaints == 3
    with pytest.raises(ValueError, match="2 theme lists for 4 rows"):
        index.suggest_themes("late", themes[:2])


def test_lexical_fallback_rate_on_the_fixture() -> None:
    """The fallback's top-3 theme hit rate, printed; its probes share (by design) almost no
    word with the stored complaints, so only its sanity is asserted: each stored complaint
    typed again offers its own theme first."""
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    texts = [row["text"] for row in fixture["stored"]]
    themes = [[row["theme"]] for row in fixture["stored"]]
    index = S.LexicalIndex(texts)
    hits = sum(p["theme"] in [s.theme_id for s in index.suggest_themes(p["text"], themes, 3)]
               for p in fixture["probes"])
    rate = hits / len(fixture["probes"])
    print(f"\nlexical fallback: top-3 theme hit rate {rate:.1%} "
          f"({hits}/{len(fixture['probes'])} differently-worded probes)")
    own_first = sum(index.suggest_themes(text, themes, 1)[0].theme_id == theme[0]
                    for text, theme in zip(texts, themes, strict=True))
    assert own_first == len(texts)


# --- distinctive words ---------------------------------------------------------------------------
def test_distinctive_words_set_a_theme_apart_from_the_others() -> None:
    texts_by_theme = {
        "delivery": ["The parcel was late, order late again", "Courier late with my order",
                     "My parcel never came, the order is lost", "Order arrived late"],
        "staff": ["The waiter was rude about my order", "Rude staff at the counter",
                  "The waiter ignored my order"],
        "price": ["Far too expensive", "Prices too expensive for my order"],
    }
    words = S.distinctive_words(texts_by_theme, n=3)
    assert words["delivery"][:2] == ["late", "parcel"]
    assert words["staff"][:2] == ["rude", "waiter"]
    assert words["price"][0] == "expensive"
    # "order" is in every theme: it sets none apart; stop words never appear.
    assert all("order" not in listed for listed in words.values())
    assert all(not set(listed) & S.STOP_WORDS for listed in words.values())


def test_distinctive_words_show_the_commonest_written_form_and_stop_at_n() -> None:
    words = S.distinctive_words({
        "booking": ["Bookings lost", "booking lost", "my bookings vanished", "bookings gone"],
        "billing": ["charged twice", "wrong invoice", "invoice too high"],
    }, n=1)
    assert words == {"booking": ["bookings"], "billing": ["invoice"]}


def test_distinctive_words_of_a_single_theme_are_its_commonest_words() -> None:
    assert S.distinctive_words({"only": ["late parcel", "late courier", "late"]}, n=2) == {
        "only": ["late", "courier"]}
    assert S.distinctive_words({"a": [], "b": ["the"]}) == {"a": [], "b": []}


def test_distinctive_words_on_the_fixture_name_each_theme() -> None:
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    texts_by_theme: dict[str, list[str]] = {}
    for row in fixture["stored"]:
        texts_by_theme.setdefault(row["theme"], []).append(row["text"])
    words = S.distinctive_words(texts_by_theme, n=10)
    print("\n" + "\n".join(f"{theme}: {', '.join(listed)}" for theme, listed in words.items()))
    assert "delivery" in words["delivery late"]
    assert "booking" in words["booking lost"]
    assert "invoice" in words["billing error"]
    assert "app" in words["website not working"]
    assert all(len(listed) == 10 for listed in words.values())
