"""Turn what a user typed into the value a question expects, or say clearly why not."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from assistant.case.profile import Question
from assistant.errors import AnswerError

MAX_ANSWER_CHARS = 20_000
_YES = {"yes", "y", "oui", "o", "true", "vrai", "1"}
_NO = {"no", "n", "non", "false", "faux", "0"}
_MONTHS = {
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12, "january": 1, "february": 2, "march": 3, "april": 4,
    "may": 5, "june": 6, "july": 7, "august": 8, "september": 9, "october": 10,
    "november": 11, "december": 12,
}



def clean_text(raw: str) -> str:
    """Normalise Unicode, drop control characters (keep newlines and tabs), trim."""
    text = unicodedata.normalize("NFC", raw or "")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cs", "Co"))
    return re.sub(r"[ \t]+\n", "\n", text).strip()


def shown(text: str, limit: int = 60) -> str:
    """The text quoted in an error message: one line, short (the user typed the rest)."""
    return repr(text[:limit] + "…" if len(text) > limit else text)


_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}


def parse_date(text: str) -> dt.date:
    value = text.strip().lower()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            pass
    m = re.fullmatch(r"(\d{1,2})(?:er)?\s+([a-zéû]+)\.?\s+(\d{4})", value)
    if m and m.group(2) in _MONTHS:
        return dt.date(int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)))
    m = re.fullmatch(r"([a-z]+)\s+(\d{1,2}),?\s+(\d{4})", value)
    if m and m.group(1) in _MONTHS:
        return dt.date(int(m.group(3)), _MONTHS[m.group(1)], int(m.group(2)))
    raise AnswerError(f"not a date: {shown(text)} (use YYYY-MM-DD or DD/MM/YYYY)")


def normalise(question: Question, raw: str) -> str:
    """The value to record for `question`, or `AnswerError` with a one-line reason."""
    text = clean_text(raw)
    if not any(unicodedata.category(ch) not in _INVISIBLE for ch in text):  # "", or only zero-width/bidi marks
        raise AnswerError(f"{question.id}: an answer cannot be empty")
    if len(text) > MAX_ANSWER_CHARS:
        raise AnswerError(
            f"{question.id}: the answer is {len(text)} characters long (the limit is {MAX_ANSWER_CHARS}): "
            "attach long material as a document instead"
        )
    if question.type == "yes_no":
        word = text.lower().rstrip(".!")
        if word in _YES:
            return "yes"
        if word in _NO:
            return "no"
        raise AnswerError(f"{question.id}: answer yes or no (oui/non), not {shown(text)}")
    if question.type == "date":
        try:
            return parse_date(text).isoformat()
        except ValueError as exc:
            raise AnswerError(f"{question.id}: {exc}") from None
    if question.type == "choice":
        for option in question.options:
            if text.lower() == option.lower() or text.lower() in (f"class {option.lower()}", f"classe {option.lower()}"):
                return option
        raise AnswerError(f"{question.id}: choose one of {', '.join(question.options)}, not {shown(text)}")
    if question.type == "number":
        if not re.fullmatch(r"\d+(?:[.,]\d+)?", text):
            raise AnswerError(f"{question.id}: expected a number, got {shown(text)}")
        return text.replace(",", ".")
    return text


def word_count(text: str) -> int:
    return sum(1 for w in text.split() if any(ch.isalnum() for ch in w))
