"""The shipped notes and the profile's provisions cite the law as it stands: the consolidated
EUR-Lex text, the Légifrance article (not the whole code), ANSM's current page; and each note says
whether its statements were checked against their source (`checked`) or not (`verify`)."""

from __future__ import annotations

import re

import pytest
import yaml

from assistant.case.profile import load_profile
from assistant.knowledge.sources import NOTES_DIR

NOTES = sorted(NOTES_DIR.glob("*/*.md"))
# Where a citation must never point: the 2017 Official Journal text of the MDR/IVDR (Art. 120 and 110
# superseded), an amending act in place of the consolidated Regulation, the whole public-health code,
# ANSM's Directive-era page.
WRONG_TARGETS = {
    r"eur-lex\.europa\.eu/eli/reg/2017/74[56]/oj": "the 2017 base text, not the consolidated version",
    r"eur-lex\.europa\.eu/eli/reg/2023/607": "the amending act, not the consolidated MDR",
    r"legifrance\.gouv\.fr/codes/texte_lc/": "the whole code, not the article",
    r"demander-une-derogation-pour-un-dispositif-medical-depourvu-de-marquage-ce": "ANSM's Directive-era page",
}


def _front_matter(path):
    text = path.read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, f"{path.name}: no front matter"
    return yaml.safe_load(match.group(1))


def _wrong(url: str) -> list[str]:
    return [why for pattern, why in WRONG_TARGETS.items() if re.search(pattern, url)]


def test_there_are_notes_in_both_languages_for_the_same_sources():
    by_lang = {lang: {p.name.rsplit(".", 2)[0]: _front_matter(p) for p in NOTES if p.parent.name == lang}
               for lang in ("fr", "en")}
    assert len(by_lang["fr"]) >= 30 and by_lang["fr"].keys() == by_lang["en"].keys()
    same = lambda url: re.sub(r"/(FR|EN)/|_(fr|en)(?=[.?])", "/", url)  # noqa: E731 - the text in its language
    for stem, meta in by_lang["fr"].items():
        assert same(meta["url"]) == same(by_lang["en"][stem]["url"]), stem


@pytest.mark.parametrize("path", NOTES, ids=lambda p: p.name)
def test_each_note_cites_the_current_text_and_says_what_was_checked(path):
    meta = _front_matter(path)
    assert meta["url"].startswith("https://") and _wrong(meta["url"]) == [], (meta["url"], _wrong(meta["url"]))
    assert meta.get("status") in {"current", "superseded", "proposal"}
    assert ("checked" in meta) != ("verify" in meta), "either checked (with its date) or verify (what was not)"


def test_the_profile_cites_the_current_texts():
    for provision in load_profile("ansm").provisions:
        assert _wrong(provision.url) == [], (provision.id, provision.url)


class _WordHash:
    """Bag-of-words vectors: the ingestion under test, not the model."""

    model_id = "test-word-hash@1"
    dimension = 64

    def _vector(self, text: str) -> list[float]:
        import hashlib

        v = [0.0] * self.dimension
        for word in text.lower().split():
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        norm = sum(x * x for x in v) ** 0.5 or 1.0
        return [x / norm for x in v]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def test_the_notes_quote_the_superseded_wording_and_are_still_indexed_whole(tmp_path):
    """The notes explain the 2017 dates to say they are no longer the law: the superseded-wording
    screen (for official texts a user adds) must not drop their passages or warn on `corpus sync`."""
    from assistant.knowledge.index import KnowledgeBase
    from assistant.knowledge.sources import chunks_of_file
    from assistant.knowledge.superseded import superseded

    quoting = [p.name for p in NOTES if any(superseded(c.text) for c in chunks_of_file(p))]
    assert quoting  # otherwise this test guards nothing
    report = KnowledgeBase(tmp_path / "home", embedder=_WordHash()).add([NOTES_DIR])
    assert report.problems == [] and report.chunks == sum(len(chunks_of_file(p)) for p in NOTES)
