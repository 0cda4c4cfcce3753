"""Meaning vectors for feedback: the one door to the embedding model and the lexical fallback.

Why a module of its own: the model (`infra.embeddings`, wordllama, loaded offline) is slow to
load and must never be on the start-up path or the GUI thread, and it may fail to load on a
trimmed install. Everything that encodes or ranks by meaning goes through `Vectors`, which
loads the model on first use, remembers a failure, and answers None so the caller ranks by
words instead (FTS5 bm25 in `store.feedback.lexical_similar`). The vector arithmetic itself
(float32 bytes, ranking, theme suggestions, distinctive words) lives in `core.similarity`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)


class Vectors:
    """Encodes texts with the embedding model, or says it cannot (None) without raising."""

    def __init__(self, enabled: bool = True) -> None:
        self._enabled = enabled

    def _embedder(self) -> Any | None:
        if not self._enabled:
            return None
        # Importing the module loads neither numpy nor the model; get_embedder does, once.
        from crmcompanion.infra import embeddings

        try:
            return embeddings.get_embedder()
        except embeddings.EmbeddingUnavailable:
            # Logged once by infra.embeddings; remembered there too.
            return None

    @property
    def model_id(self) -> str | None:
        embedder = self._embedder()
        return None if embedder is None else str(embedder.model_id)

    def encode(self, texts: Sequence[str]) -> tuple[str, np.ndarray] | None:
        """(model id, one unit-length float32 row per text), or None when the model is not
        available here."""
        embedder = self._embedder()
        if embedder is None:
            return None
        return str(embedder.model_id), embedder.encode(list(texts))

    def encode_bytes(self, texts: Sequence[str]) -> tuple[str, list[bytes]] | None:
        """`encode` as the bytes the database stores."""
        encoded = self.encode(texts)
        if encoded is None:
            return None
        from crmcompanion.core.similarity import to_bytes

        model, matrix = encoded
        return model, [to_bytes(row) for row in matrix]

    def rank(self, query: np.ndarray, blobs: Sequence[bytes], k: int
             ) -> list[tuple[int, float]]:
        """(row, score) of the `k` stored vectors nearest `query`, best first."""
        from crmcompanion.core.similarity import rank, stack_vectors

        if not blobs:
            return []
        matrix = stack_vectors(blobs, int(query.shape[-1]))
        indices, scores = rank(query, matrix, k)
        return [(int(i), float(s)) for i, s in zip(indices.tolist(), scores.tolist(),
                                                    strict=True)]


def distinctive_words(texts_by_theme: Mapping[int, Sequence[str]], n: int = 10
                      ) -> dict[int, list[str]]:
    """Per theme, up to `n` words that set it apart from the other themes (stop words
    removed), from `core.similarity` (imported here: it loads numpy)."""
    from crmcompanion.core.similarity import distinctive_words as words

    return words(texts_by_theme, n)
