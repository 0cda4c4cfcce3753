"""Issue 15's quality target: for >= 90% of differently-worded complaints, the three themes
offered hold the right one. Measured on tests/fixtures/similar_complaints.json (80 stored
complaints over 8 themes, 48 probes worded differently) with the real model, as the app
ranks: encode, then `core.similarity.suggest_themes` (theme centroids)."""

from __future__ import annotations

import json
from pathlib import Path

from crmcompanion.core import similarity
from crmcompanion.infra.embeddings import get_embedder

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "similar_complaints.json"
TARGET = 0.90


def test_top_3_themes_hold_the_right_one_for_at_least_90_percent_of_the_probes() -> None:
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    stored, probes = fixture["stored"], fixture["probes"]
    assert len(stored) >= 60 and len(fixture["themes"]) == 8
    assert {row["theme"] for row in stored} == {p["theme"] for p in probes} == set(
        fixture["themes"])

    embedder = get_embedder()
    matrix = embedder.encode([row["text"] for row in stored])
    themes = [[row["theme"]] for row in stored]
    centroids = similarity.theme_centroids(matrix, themes)
    queries = embedder.encode([probe["text"] for probe in probes])
    misses = []
    for probe, query in zip(probes, queries, strict=True):
        offered = [s.theme_id for s in similarity.suggest_themes(
            query, matrix, themes, 3, centroids=centroids)]
        if probe["theme"] not in offered:
            misses.append(f"  {probe['text']!r}: {probe['theme']} not in {offered}")
    rate = 1 - len(misses) / len(probes)
    print(f"\nsimilar complaints: top-3 theme hit rate {rate:.1%} "
          f"({len(probes) - len(misses)}/{len(probes)} differently-worded probes)"
          + ("\n" + "\n".join(misses) if misses else ""))
    assert rate >= TARGET, "\n".join(misses)


def test_the_nearest_stored_complaints_are_listed_best_first() -> None:
    """What the "similar complaints" list shows for the issue's example: the stored
    complaint about an unfriendly waiter comes first for "the waiter was grumpy"."""
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    texts = [row["text"] for row in fixture["stored"]]
    embedder = get_embedder()
    indices, scores = similarity.rank(embedder.encode(["the waiter was grumpy"])[0],
                                      embedder.encode(texts), 5)
    print("\n" + "\n".join(f"  {s:.3f} {texts[i]}" for i, s in zip(indices, scores,
                                                                     strict=True)))
    assert texts[indices[0]] == "The waiter was unfriendly and rolled his eyes at us."
    assert list(scores) == sorted(scores, reverse=True)
