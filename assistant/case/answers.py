"""Turn what a user typed into the value a question expects, or say clearly why not."""

from __future__ import annotations

import re
import unicodedata

from assistant.case.profile import Question
from assistant.errors import AnswerError
from assistant.text import clean_text, parse_date, shown

# Re-exported: ui/views/manufacturer/chat.py still imports it from here (the faces are rewired elsewhere).
from assistant.text import word_count as word_count

MAX_ANSWER_CHARS = 20_000
_YES = {"yes", "y", "oui", "o", "true", "vrai", "1"}
_NO = {"no", "n", "non", "false", "faux", "0"}
_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}


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

