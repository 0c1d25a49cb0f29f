"""The Python tokenizer used for questions gives the same token ids as the saved e5 tokenizer.

A search embeds the question with ids from ``unigram.QueryTokenizer``; documents keep
``tokenizers``. Any difference would put a question's vector slightly off the one its text
had before, silently: so every chunk of the notes, the gold questions and hostile strings are
tokenised both ways here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from tokenizers import Tokenizer

from assistant.knowledge.embeddings.factory import default_embedder
from assistant.knowledge.embeddings.unigram import SPECIALS, QueryTokenizer
from assistant.knowledge.sources import NOTES_DIR, chunks_of_file
from tests.conftest import MODELS, ROOT

E5 = MODELS / "multilingual-e5-small-onnx-1"

HOSTILE = [
    "",
    " ",
    "   ",
    "query: ",
    "query:   plusieurs   espaces   entre les mots  ",
    " leading space and trailing space ",
    "tab\tand\nnewline\r\nand\u00a0no-break space",
    "\u2581already a metaspace\u2581\u2581twice",
    "<s> <unk> </s> <pad> literal specials",
    "emoji 🩺💉 and CJK 医疗器械 and Korean 의료기기 and Arabic جهاز طبي",
    "combining e\u0301 and precomposed é, ligature ﬁ, full-width ＭＤＲ",
    "zero\u200bwidth\u200djoiner and \x00 control \x07 chars",
    "a" * 3000,
    "Règlement (UE) 2017/745, art. 59§1 — dérogation « exceptionnelle » n°12/2024 !?;:",
    "unknownchars\U0001f9ec\U0001f9ec\U0001f9ec adjacent \U0001f9ecx\U0001f9ec",
    " ".join(["dérogation"] * 700),  # longer than 512 tokens: truncated on the right
]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Tokenizer, QueryTokenizer]:
    if not (E5 / "tokenizer.json").exists():
        pytest.fail(f"the converted e5 model is missing in {MODELS}: run `make test` (it converts it)")
    folder = tmp_path_factory.mktemp("e5")
    shutil.copy(E5 / "tokenizer.json", folder / "tokenizer.json")
    query = QueryTokenizer.load(folder)
    assert query is not None and (folder / SPECIALS).exists()
    return Tokenizer.from_file(str(folder / "tokenizer.json")), query


def _texts() -> list[str]:
    chunks = [c.text for path in sorted(NOTES_DIR.glob("*.md")) for c in chunks_of_file(path)]
    gold = yaml.safe_load((ROOT / "evals" / "gold" / "retrieval_v2.yaml").read_text(encoding="utf-8"))
    items = gold["items"] if isinstance(gold, dict) else gold
    questions = [item["q"] for item in items]
    return chunks + ["query: " + q for q in questions] + questions + HOSTILE


def test_ids_match_tokenizers_on_notes_questions_and_hostile_text(folders) -> None:
    reference, query = folders
    texts = _texts()
    assert len(texts) > 400
    differ = [t[:80] for t in texts if query.encode(t) != reference.encode(t, add_special_tokens=True).ids]
    assert differ == []


def test_a_question_is_embedded_without_loading_tokenizer_json(tmp_path: Path) -> None:
    cache = tmp_path / "models"
    (cache / E5.name).mkdir(parents=True)
    for item in E5.iterdir():  # a cache of its own: no other test's encoder has loaded anything
        if item.suffix in (".onnx", ".npy"):
            (cache / E5.name / item.name).symlink_to(item)
        elif item.is_file() and not item.name.startswith(("unigram", ".")):
            shutil.copy(item, cache / E5.name / item.name)
    embedder = default_embedder(cache)
    vector = embedder.embed_query("Quels documents joindre à une demande de dérogation ?")
    assert len(vector) == 384
    encoder = embedder.encoder
    assert encoder._tokenizer is None  # the 17 MB file was not read for a question
    assert (cache / E5.name / SPECIALS).exists()  # written on first use, beside it
    # a batch goes through tokenizers, and gives a lone text the same ids
    text = "query: Quels documents joindre à une demande de dérogation ?"
    assert encoder._token_ids([text, text])[0] == encoder._token_ids([text])[0]
    assert encoder._tokenizer is not None


def test_a_tokenizer_of_another_kind_is_not_imitated(tmp_path: Path) -> None:
    from tokenizers import models, pre_tokenizers

    other = Tokenizer(models.WordLevel({"[UNK]": 0, "device": 1}, unk_token="[UNK]"))
    other.pre_tokenizer = pre_tokenizers.Whitespace()
    other.save(str(tmp_path / "tokenizer.json"))
    assert QueryTokenizer.load(tmp_path) is None
