"""The manufacturer's answers translated for a submission in another language than theirs.

Offline, an answer written in the authority's language is quoted in it (drafting/offline.py). With
a language model, it is translated: the answers go through the case's guarded session (patient
identifiers removed before sending, every call in the case's audit log), and a translation is kept
only if it keeps every number of the answer. Translations are keyed by the answer's text, so a
changed answer is translated again and never shown with an old translation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel

from assistant.case.model import Case
from assistant.case.profile import Lang, Profile
from assistant.drafting.content import non_fact, translation_key, written_in
from assistant.errors import NotFound
from assistant.llm import prompts as prompting
from assistant.llm.prompts import LANG_NAMES
from assistant.llm.session import LLM

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


class _Item(BaseModel):
    id: str
    text: str


class _Reply(BaseModel):
    translations: list[_Item]


key = translation_key


def needed(profile: Profile, case: Case, lang: Lang, known: Mapping[str, str] = {}) -> dict[str, str]:
    """The answers (question id → text) the `lang` version would quote in the authority's language
    and that have no translation in `known` yet."""
    if lang == profile.submission_language:
        return {}
    out: dict[str, str] = {}
    for qid, answer in case.answers.items():
        try:
            question = profile.question(qid)
        except NotFound:
            continue
        value = answer.value.strip()
        if question.type not in ("text", "long_text") or non_fact(question, value, profile.id):
            continue
        if written_in(value, profile.submission_language) and key(value, lang) not in known:
            out[qid] = value
    return out


def faithful(source: str, translation: str) -> bool:
    """Whether a translation keeps every number of its source and is of a plausible length."""
    if not translation.strip():
        return False
    kept = {n.replace(",", ".") for n in _NUMBER.findall(translation)}
    if any(n.replace(",", ".") not in kept for n in _NUMBER.findall(source)):
        return False
    return 0.4 <= len(translation) / max(len(source), 1) <= 2.5


def translate(session: LLM, texts: Mapping[str, str], source: Lang, target: Lang) -> dict[str, str]:
    """key(text, target) → translation, for each text the model translated faithfully (one call);
    "" for a text whose translation was refused (it stays quoted, and is not asked again)."""
    if not texts:
        return {}
    answers = "\n".join(prompting.data_block("answer", text, id=qid) for qid, text in texts.items())
    messages = prompting.render("translate_answers", folder=session.prompts_dir, answers=answers,
                                source_name=LANG_NAMES[source], target_name=LANG_NAMES[target])
    reply = session.structured(messages, _Reply, purpose="translate_answers")
    out = {key(text, target): "" for text in texts.values()}
    for item in reply.translations:
        text = texts.get(item.id)
        if text is not None and faithful(text, item.text):
            out[key(text, target)] = " ".join(item.text.split())
    return out
