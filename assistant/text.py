"""Text rules every part shares: one copy of each.

Dates have one grammar here because each part that used to read them had its own, and a date one
part accepted could slip past another: the patient-data screen missed a birth date written
"12 janv 1958", the grounding check did not read "12-03-1958" or "12 sept. 1958" as dates, and
a certificate "valid until 31 Dec 2027" gave no expiry date.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from typing import Literal

Lang = Literal["fr", "en"]  # the languages the product writes in
LANGS: tuple[Lang, ...] = ("fr", "en")


def normalise(text: str) -> str:
    """Lower case, no accents on the comparison side, unified quotes, dashes and whitespace."""
    text = unicodedata.normalize("NFKD", text).replace("’", "'").replace("‘", "'")
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    text = re.sub(r"[‐‑‒–—]", "-", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def clean_text(raw: str) -> str:
    """Normalise Unicode, drop control characters (keep newlines and tabs), trim."""
    text = unicodedata.normalize("NFC", raw or "")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cs", "Co"))
    return re.sub(r"[ \t]+\n", "\n", text).strip()


_MARKUP = re.compile(r"\*\*|__|`|(?:^|(?<=\s))- (?=\S)")


def plain(text: str) -> str:
    """`text` on one line without Markdown emphasis, code marks and list dashes: a project note's
    own formatting, which a reader of an excerpt or an exported document must not see as such."""
    return _MARKUP.sub("", " ".join(text.split()))


def shown(text: str, limit: int = 60) -> str:
    """The text quoted in an error message: one line, short (the user typed the rest)."""
    return repr(text[:limit] + "…" if len(text) > limit else text)


def word_count(text: str) -> int:
    """Words with at least one letter or digit (a dash or an emoji alone is not a word)."""
    return sum(1 for w in text.split() if any(ch.isalnum() for ch in w))


# -- dates ---------------------------------------------------------------------------------------
# Every spelling of each month read anywhere (full names and the usual abbreviations, French and
# English); the forms without accents are added below, and a trailing dot is allowed by the grammar.
_SPELLINGS: tuple[tuple[str, ...], ...] = (
    ("janvier", "janv", "january", "jan"),
    ("février", "févr", "fév", "february", "feb"),
    ("mars", "march", "mar"),
    ("avril", "avr", "april", "apr"),
    ("mai", "may"),
    ("juin", "june", "jun"),
    ("juillet", "juill", "juil", "july", "jul"),
    ("août", "august", "aug"),
    ("septembre", "september", "sept", "sep"),
    ("octobre", "october", "oct"),
    ("novembre", "november", "nov"),
    ("décembre", "déc", "december", "dec"),
)


def _fold(word: str) -> str:
    """A month as written, as a key of `MONTHS`: lower case, no accent, no trailing dot."""
    return normalise(word).rstrip(".")


MONTHS: dict[str, int] = {_fold(s): n for n, names in enumerate(_SPELLINGS, start=1) for s in names}
"""Month number by spelling, without accents (look a written month up with `month_number`)."""

MONTH_NAMES: dict[str, list[str]] = {
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"],
}
"""How a date is written out in each drafting language (`format_date`)."""

_MONTH = "|".join(sorted({*MONTHS, *(s for names in _SPELLINGS for s in names)}, key=len, reverse=True))


def _grammar(year: str) -> str:
    """The date forms, with `year` as the year's pattern.

    ISO (2024-05-26), day/month/year with "/", "." or "-" (26/05/2024), day month year
    (26 mai 2024, 1er mars 2024, 12th March 1958, 12 sept. 1958) and month day, year (May 26, 2024).
    """
    return (
        rf"(?<!\w)(?:(?P<iso_y>{year})-(?P<iso_m>\d{{1,2}})-(?P<iso_d>\d{{1,2}})"
        rf"|(?P<dmy_d>\d{{1,2}})[/.\-](?P<dmy_m>\d{{1,2}})[/.\-](?P<dmy_y>{year})"
        rf"|(?P<d>\d{{1,2}})(?:er|st|nd|rd|th)?\s+(?P<m>{_MONTH})\.?\s+(?P<y>{year})"
        rf"|(?P<m2>{_MONTH})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y2>{year}))(?!\d)"
    )


DATE = re.compile(_grammar(r"(?:19|20)\d{2}"), re.IGNORECASE)
"""A date inside running text. Years 1900-2099 only: in prose a bare four-digit number is often
something else, and no date the product reads (birth, certificate, event) falls outside them."""

_ONE_DATE = re.compile(_grammar(r"\d{4}"), re.IGNORECASE)  # a value typed as a date: any year


def month_number(word: str) -> int | None:
    """1-12 for a month written in French or English (any spelling in `MONTHS`), else None."""
    return MONTHS.get(_fold(word))


def date_of(match: re.Match[str]) -> dt.date | None:
    """The date a match of `DATE` names, or None when it names none (31/02/2024)."""
    g = match.groupdict()
    if g["iso_y"]:
        parts = g["iso_y"], g["iso_m"], g["iso_d"]
    elif g["dmy_y"]:
        parts = g["dmy_y"], g["dmy_m"], g["dmy_d"]
    elif g["y"]:
        parts = g["y"], str(month_number(g["m"])), g["d"]
    else:
        parts = g["y2"], str(month_number(g["m2"])), g["d2"]
    try:
        return dt.date(*(int(p) for p in parts))
    except ValueError:
        return None


def find_dates(text: str) -> Iterator[tuple[re.Match[str], dt.date | None]]:
    """Each date written in `text`, with the day it names (None for an impossible one)."""
    for m in DATE.finditer(text):
        yield m, date_of(m)


def parse_date(text: str) -> dt.date:
    """The date `text` names, in any form of the grammar; `ValueError` saying why not."""
    m = _ONE_DATE.fullmatch(text.strip())
    day = date_of(m) if m else None
    if day is None:
        raise ValueError(f"not a date: {shown(text)} (use YYYY-MM-DD or DD/MM/YYYY)")
    return day


def format_date(iso: str, lang: str) -> str:
    """`iso` (YYYY-MM-DD, or a timestamp starting so) written out in `lang`; as given if not a date."""
    try:
        day = dt.date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    first = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return f"{first} {MONTH_NAMES[lang][day.month - 1]} {day.year}"
