"""infra.embeddings: the wordllama model loads offline, once, off the start-up path, and a
load failure is one exception the caller can fall back on (issue 15).

The failure and start-up checks run in fresh interpreters: the model is loaded once per
process, and what a process imports at start can only be seen from its beginning."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from crmcompanion.infra import embeddings

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, *, path: list[Path] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in [*(path or []), ROOT])
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_encode_gives_unit_float32_rows_of_the_model_dimension() -> None:
    embedder = embeddings.get_embedder()
    vectors = embedder.encode(["The parcel came a week late.", "Le serveur était désagréable",
                               "", "   ", "?!"])
    assert vectors.dtype == np.float32
    assert vectors.shape == (5, embeddings.MODEL_DIM) == (5, embedder.dim)
    assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-5)
    # Nothing to embed: the zero row, similar to nothing (never NaN).
    assert not vectors[2:4].any()
    assert np.isfinite(vectors).all()
    assert embedder.encode([]).shape == (0, embeddings.MODEL_DIM)
    assert embedder.model_id == embeddings.MODEL_ID


def test_meaning_not_words_the_issue_examples() -> None:
    """The issue's two examples, against each other's theme: "grumpy" is nearer "unfriendly"
    than "cold food", and "reservation vanished" nearer "booking lost" than "parcel lost"."""
    embedder = embeddings.get_embedder()
    grumpy, unfriendly, cold_food, vanished, booking_lost, parcel_lost = embedder.encode([
        "The waiter was grumpy", "The waiter was unfriendly", "The food was cold",
        "Our reservation vanished", "The hotel lost our booking", "The courier lost our parcel",
    ])
    assert grumpy @ unfriendly > grumpy @ cold_food
    assert vanished @ booking_lost > vanished @ parcel_lost


def test_the_model_loads_once_for_threads_asking_at_the_same_time(monkeypatch) -> None:
    loads: list[int] = []
    real_load = embeddings._load

    def counting_load() -> embeddings.Embedder:
        loads.append(1)
        return real_load()

    embeddings._reset_for_tests()
    monkeypatch.setattr(embeddings, "_load", counting_load)
    results: list[embeddings.Embedder] = []
    start = threading.Barrier(6)

    def ask() -> None:
        start.wait()
        results.append(embeddings.get_embedder())

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert len(results) == 6 and all(r is results[0] for r in results)
    assert embeddings.loaded()


def test_it_loads_with_no_network_at_all() -> None:
    """Every socket connection refused: the model still loads (weights and tokenizer from
    the wheel, no Hugging Face)."""
    result = run_python(
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from crmcompanion.infra.embeddings import get_embedder\n"
        "print(get_embedder().encode(['late parcel']).shape)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(1, 256)"


def test_a_model_without_its_weights_raises_one_exception_and_is_not_retried(tmp_path) -> None:
    """A trimmed install (wordllama without its weights folder): EmbeddingUnavailable, with
    no download tried, and the same failure at once on the next call."""
    import wordllama

    trimmed = tmp_path / "site"
    shutil.copytree(Path(wordllama.__file__).parent, trimmed / "wordllama",
                    ignore=shutil.ignore_patterns("weights", "__pycache__"))
    result = run_python(
        "import socket\n"
        "def refuse(*a, **k): raise AssertionError('a download was tried')\n"
        "socket.socket.connect = refuse\n"
        "import wordllama\n"
        f"assert wordllama.__file__.startswith({str(trimmed)!r}), wordllama.__file__\n"
        "calls = []\n"
        "real = wordllama.WordLlama.load\n"
        "wordllama.WordLlama.load = lambda *a, **k: calls.append(1) or real(*a, **k)\n"
        "from crmcompanion.infra import embeddings as e\n"
        "errors = []\n"
        "for attempt in range(2):\n"
        "    try:\n"
        "        e.get_embedder()\n"
        "    except e.EmbeddingUnavailable as error:\n"
        "        errors.append(error)\n"
        "print(len(errors), len(calls), errors[0] is errors[1], e.loaded())\n"
        "print(errors[0])\n",
        path=[trimmed],
    )
    assert result.returncode == 0, result.stderr
    counts, message = result.stdout.strip().splitlines()
    assert counts == "2 1 True False"  # two calls, one load attempt, the same failure
    assert message.startswith("The wordllama model could not be loaded (FileNotFoundError: ")
    assert "downloads are disabled" in message


def test_loading_it_starts_no_console_logging_in_a_process_without_logging() -> None:
    """wordllama calls logging.basicConfig(level=INFO) when imported; the loader keeps that
    from installing a stderr handler in a process that has none."""
    result = run_python(
        "import logging\n"
        "from crmcompanion.infra.embeddings import get_embedder\n"
        "get_embedder()\n"
        "print(len(logging.getLogger().handlers), logging.getLogger().level)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 30"  # no handler, the root's level still WARNING
    assert result.stderr == ""


@pytest.mark.parametrize("module", ["crmcompanion.app", "crmcompanion.infra.embeddings",
                                    "crmcompanion.services.container"])
def test_nothing_on_the_start_up_path_imports_numpy_or_the_model(module: str) -> None:
    """First paint must not pay for numpy (~60 ms) or wordllama (~0.5 s): importing the app,
    the services or this module imports neither; `get_embedder()` does, on first use."""
    result = run_python(
        f"import sys, {module}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'wordllama',\n"
        "      'tokenizers', 'safetensors', 'pydantic', 'requests'}))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_threads_encoding_at_once_get_the_same_vectors_as_one_after_another() -> None:
    embedder = embeddings.get_embedder()
    texts = [f"complaint number {i}: the parcel was late and the driver rude" for i in range(40)]
    expected = embedder.encode(texts)
    results: dict[int, np.ndarray] = {}

    def encode(part: int) -> None:
        results[part] = embedder.encode(texts[part::4])

    threads = [threading.Thread(target=encode, args=(part,)) for part in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for part in range(4):
        assert np.array_equal(results[part], expected[part::4])
