"""The content gate: whether an answer says something a sentence can state as a fact.

"n/a", "voir dossier", "TBD", a bare "oui" to a question that asks how, one word where a
justification is asked: none of these is a fact. The drafter writes a visible placeholder instead
(never "certificat CE n° n/a") and the check reports a blocker, waivable with a reason. What counts
is data, beside the authority's profile (profiles/consistency/<authority>.yaml, `non_facts`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import cache, lru_cache
from typing import Any

import yaml

from assistant import words as i18n
from assistant.case.profile import PROFILE_DIR, Profile, Question
from assistant.errors import NotFound
from assistant.knowledge.passage import Passage

CONSISTENCY_DIR = PROFILE_DIR / "consistency"


@cache
def rules_of(authority: str) -> dict[str, Any]:
    """The authority's consistency data (empty when it has none)."""
    path = CONSISTENCY_DIR / f"{authority}.yaml"
    if not path.exists():
        return {}
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected a mapping")
    return data


@lru_cache(maxsize=8192)  # the same answers and rule words are folded on every draft and check
def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text).strip().rstrip(".!;:,").strip()


def _offers(question: Question, word: str) -> bool:
    """The question's own text invites this answer ("Répondez « aucune » sinon")."""
    return re.search(rf"(?<!\w){re.escape(_fold(word))}(?!\w)", _fold(question.text.fr + " " + question.text.en)) is not None


def non_fact(question: Question, value: str, authority: str) -> str | None:
    """Why `value` cannot be written as a fact for `question` (a short reason), or None if it can."""
    data = rules_of(authority).get("non_facts") or {}
    if not data or question.type in ("yes_no", "date", "choice", "number"):
        return None  # typed answers are checked when they are recorded
    folded = _fold(value)
    words = folded.split()
    if not folded or folded in {_fold(x) for x in data.get("exact", [])}:
        return "placeholder"
    if len(words) <= int(data.get("short_words", 6)) and any(_fold(x) in folded for x in data.get("contains", [])):
        return "pointer"
    if folded in {_fold(x) for x in data.get("yes_no", [])}:
        return "yes_no"
    if folded in {_fold(x) for x in data.get("empty", [])}:
        if question.required and not _offers(question, folded) and not _offers(question, value):
            return "empty"
        return None
    if question.justification and len(words) < int(data.get("justification_min_words", 2)):
        return "one_word"
    return None


def rule_label(authority: str, rule_id: str, lang: str) -> str:
    """How an accepted contradiction is named in the exports (the rule's label, else its id)."""
    for rule in rules_of(authority).get("rules") or []:
        if rule.get("id") == rule_id:
            return (rule.get("label") or {}).get(lang) or rule_id
    return rule_id


def agree(text: str, authority: str, request_type: str, lang: str) -> str:
    """`text` with "du ou des patients" and its kind put in the number of the case (one identified
    patient, or a population): the substitutions are data (`agreement` in the consistency file)."""
    table = ((rules_of(authority).get("agreement") or {}).get(request_type) or {}).get(lang) or {}
    for written in sorted(table, key=len, reverse=True):
        text = text.replace(written, table[written])
    return text


def answer_label(profile: Profile, qid: str, lang: str, request_type: str) -> str:
    """How an answer is named where it is cited: by its question as the reader knows it, in the
    case's number ("Réponse : raison sociale du fabricant"), never by its key
    ("identification.applicant_name")."""
    try:
        label = agree(profile.question(qid).label.get(lang), profile.id, request_type, lang)
    except NotFound:
        label = qid
    return i18n.t("answer_label", lang, label)


_STOPWORDS = {
    "fr": {"le", "la", "les", "des", "du", "de", "et", "un", "une", "est", "pour", "avec", "dans", "sur", "au", "aux",
           "par", "à", "ne", "pas", "en", "ou", "sont", "été", "qui", "que", "son", "sa", "ses", "l", "d"},
}


# words that mark even a short answer as written in the language ("3 ans ; lots périmés en 2028", "aucune")
_SHORT_MARKERS = {  # not "des", "du", "en": an address ("12 rue des Tanneurs") reads the same in every language
    "fr": {"ans", "mois", "jours", "aucune", "aucun", "néant", "sans", "objet", "et", "ou", "par", "pour", "avec",
           "dans", "est", "sont", "oui", "fictif", "fictive", "correspondant", "correspondante", "directeur",
           "directrice", "responsable", "pharmacien"},
}


def translation_key(text: str, lang: str) -> str:
    """Where the translation of an answer's `text` into `lang` is kept (drafting/translation.py)."""
    return hashlib.sha256(f"{lang}\n{text.strip()}".encode()).hexdigest()[:24]


def written_in(text: str, lang: str) -> bool:
    """Whether `text` (an answer of a few words or more) reads as written in `lang`."""
    stop = _STOPWORDS.get(lang)
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    if not stop or not words:
        return False
    if len(words) < 6:  # a name or a reference reads the same in every language; "3 ans", "aucune" do not
        return any(w in _SHORT_MARKERS.get(lang, set()) for w in words)
    return sum(1 for w in words if w in stop) / len(words) >= 0.15


def passage_label(passage: Passage, lang: str) -> str:
    """How a draft cites a retrieved passage: its citation, and where else the same text stands when a
    series of guidance documents repeats it word for word (search.py merges those into one hit, which
    carries the first-ranked document's number: a valve's request would otherwise cite the CIED guide
    alone for a section the valve guide holds too)."""
    if not passage.same_text_in:
        return passage.citation
    return f"{passage.citation} ({i18n.t('cite_same_text_in', lang, '; '.join(passage.same_text_in))})"
