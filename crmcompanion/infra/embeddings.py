"""The sentence-embedding model behind "similar complaints": wordllama, offline, loaded once.

Why it exists (issue 15): a typed complaint must find stored ones by meaning ("grumpy" finds
"unfriendly"), which word overlap cannot do. wordllama is a static embedding model (a token
table averaged per text: numpy and the `tokenizers` library, no torch) whose 256-dimension
weights ship inside its wheel (~33 MB installed), so it runs with no network and no download.

How it is used, and why so:
- Never on the start-up path. Importing this module imports neither numpy nor wordllama; the
  first `get_embedder()` call does (~0.3-1 s with pydantic and tokenizers, measured in
  benchmarks/similarity.py), so the GUI calls it on its worker thread, never the GUI thread.
- Offline only: `WordLlama.load(cache_dir=<wordllama's own package folder>,
  disable_download=True)` finds the bundled files and raises instead of going to Hugging Face
  when one is missing (a trimmed install, a frozen app that left them out).
- Loaded once, thread-safe: a lock around the load; a failure is remembered and raised again
  as the same `EmbeddingUnavailable` without retrying on every keystroke, and the caller falls
  back to the lexical ranker (`core.similarity.LexicalIndex`).
- `MODEL_ID` names the model, dimension and text preparation: stored vectors made under
  another id must be re-encoded, never compared with new ones.

Dimension (measured on tests/fixtures/similar_complaints.json, benchmarks/similarity.py
--explore): the wheel holds the 256-dimension table only (512 and 1024 would be a download from
Hugging Face, which this app never does); its Matryoshka truncations to 128 and 64 were tried.
The themes offered (theme centroids) are as good at every size (top-3 hit rate on the probes
100% / 95.8% / 97.9% at 256 / 128 / 64), but the similar complaints listed are best at 256
(share of the 5 nearest on the probe's theme 51.7% / 50.4% / 45.4%; the nearest one's theme
right for 58.3% / 58.3% / 56.2%), so the full 256 is used. At 256 float32 values (1 KB a
complaint) 10,000 stored complaints are 10 MB and rank in ~2 ms.
"""

from __future__ import annotations

import logging
import threading
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported with the model, never at start-up.
    import numpy as np

logger = logging.getLogger(__name__)

MODEL_CONFIG = "l2_supercat"
MODEL_DIM = 256
# Bump the suffix when the text preparation (`prepare`) changes: stored vectors then differ.
MODEL_ID = f"wordllama-{MODEL_CONFIG}-{MODEL_DIM}-v1"


class EmbeddingUnavailable(RuntimeError):
    """The embedding model cannot be loaded here; the message is one sentence for the log or
    the user. Callers rank with the lexical fallback instead."""


class Embedder:
    """Turns texts into L2-normalised float32 vectors (rows of a (len(texts), dim) array)."""

    def __init__(self, model: object, dim: int, model_id: str) -> None:
        self._model = model
        self.dim = dim
        self.model_id = model_id

    def encode(self, texts: list[str]) -> np.ndarray:
        """One unit-length row per text; a text with no known word (empty, only stop words
        or punctuation) is the zero row, which is similar to nothing."""
        import numpy as np

        from crmcompanion.core.similarity import normalise_rows

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prepared = [prepare(text) for text in texts]
        # norm=False: wordllama's own normalisation divides by zero on an empty text.
        raw = self._model.embed(prepared, norm=False)  # type: ignore[attr-defined]
        vectors = normalise_rows(np.asarray(raw, dtype=np.float32))
        empty = [i for i, text in enumerate(prepared) if not text]
        if empty:
            vectors[empty] = 0.0
        return vectors


def prepare(text: str) -> str:
    """The text the model embeds: `text` with its whitespace collapsed, nothing dropped.

    Dropping stop words first was measured and rejected: it lowered the fixture's hit rates
    (theme centroids 100% -> 97.9% on the probes, the 5 nearest complaints 51.7% -> 46.7% on
    the right theme; benchmarks/similarity.py --explore)."""
    return " ".join(text.split())


_lock = threading.Lock()
_embedder: Embedder | None = None
_failure: EmbeddingUnavailable | None = None


def get_embedder() -> Embedder:
    """The process's embedder, loaded on the first call (slow: off the GUI thread), or
    `EmbeddingUnavailable` if it cannot load (then on every later call too, at once)."""
    global _embedder, _failure
    if _embedder is not None:
        return _embedder
    with _lock:
        if _embedder is not None:
            return _embedder
        if _failure is not None:
            raise _failure
        try:
            _embedder = _load()
        except EmbeddingUnavailable as error:
            _failure = error
            logger.warning("similar complaints fall back to word overlap: %s", error)
            raise
        return _embedder


def loaded() -> bool:
    """Whether the model is in memory already (a caller may choose the fallback meanwhile)."""
    return _embedder is not None


def _load() -> Embedder:
    spec = find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingUnavailable("The wordllama package is not installed.")
    package_folder = Path(next(iter(spec.submodule_search_locations)))
    root = logging.getLogger()
    # wordllama calls logging.basicConfig(level=INFO) on import: in a process whose root
    # logger has no handler yet (a library user, a test) that would start printing every
    # library's INFO lines on stderr. A handler present for the import makes it a no-op.
    guard = logging.NullHandler() if not root.handlers else None
    if guard is not None:
        root.addHandler(guard)
    try:
        from wordllama import WordLlama

        model = WordLlama.load(
            config=MODEL_CONFIG,
            cache_dir=package_folder,
            dim=MODEL_DIM,
            disable_download=True,
        )
    except Exception as error:  # any failure to load means "no model here", never a crash
        raise EmbeddingUnavailable(
            f"The wordllama model could not be loaded ({type(error).__name__}: {error})."
        ) from error
    finally:
        if guard is not None:
            root.removeHandler(guard)
    return Embedder(model, MODEL_DIM, MODEL_ID)


def _reset_for_tests() -> None:
    """Forget the loaded model and any failure (tests load it under changed conditions)."""
    global _embedder, _failure
    with _lock:
        _embedder = None
        _failure = None
