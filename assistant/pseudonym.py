"""Screening of patient fields: a case holds a pseudonym, never who the patient is.

Heuristics, tuned to refuse the common slips (a name after a title, a first name and surname,
a French social-security number, a date of birth) while letting clinical facts through
("homme de 67 ans", "opéré le 12/03/2025", "NYHA III").
"""

from __future__ import annotations

import re

_TITLES = r"(?:M\.|Mr\.?|Mme\.?|Mlle\.?|Mrs\.?|Ms\.?|Miss|Monsieur|Madame|Mademoiselle)"
_NAME = r"[A-ZÀ-Ý][a-zà-ÿA-ZÀ-Ý'\-]+"
TITLE_NAME = re.compile(rf"(?<![\w.]){_TITLES}\s+{_NAME}")
NIR = re.compile(
    r"(?<!\d)[12][\s.]?\d{2}[\s.]?(?:0[1-9]|1[0-2]|[2-9]\d)[\s.]?(?:\d{2}|2[AB])"
    r"[\s.]?\d{3}[\s.]?\d{3}(?:[\s.]?\d{2})?(?!\d)"
)
_MONTHS = (
    "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|"
    "décembre|decembre|january|february|march|april|may|june|july|august|september|october|"
    "november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
FULL_DATE = re.compile(
    rf"\b(?:\d{{1,2}}[/.\-]\d{{1,2}}[/.\-](?:19|20)\d{{2}}|(?:19|20)\d{{2}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}(?:er)?\s+(?:{_MONTHS})\.?\s+(?:19|20)\d{{2}}|(?:{_MONTHS})\.?\s+\d{{1,2}},?\s+(?:19|20)\d{{2}})\b",
    re.IGNORECASE,
)
BIRTH = re.compile(
    r"\b(?:né|née|nee|naissance|born|birth|dob|d\.o\.b\.?|ddn)\b", re.IGNORECASE
)
_FIRST_NAMES = {
    # Frequent French and English given names: enough to catch "Jean Dupont" or "Mary SMITH".
    "jean", "marie", "pierre", "michel", "andré", "andre", "philippe", "alain", "bernard",
    "jacques", "daniel", "patrick", "nicolas", "christophe", "françois", "francois", "christian",
    "laurent", "stéphane", "stephane", "éric", "eric", "frédéric", "frederic", "david", "julien",
    "thomas", "sébastien", "sebastien", "olivier", "paul", "louis", "lucas", "hugo", "léa", "lea",
    "emma", "chloé", "chloe", "manon", "camille", "sarah", "julie", "nathalie", "isabelle",
    "sylvie", "catherine", "françoise", "francoise", "monique", "nicole", "sophie", "anne",
    "christine", "valérie", "valerie", "sandrine", "céline", "celine", "martine", "brigitte",
    "jeanne", "louise", "alice", "inès", "ines", "gabriel", "raphaël", "raphael", "arthur",
    "jules", "adam", "mohamed", "ahmed", "fatima", "yasmine", "karim", "antoine", "maxime",
    "alexandre", "romain", "vincent", "guillaume", "mathieu", "matthieu", "benoît", "benoit",
    "aurélie", "aurelie", "émilie", "emilie", "caroline", "hélène", "helene", "claire",
    "john", "james", "robert", "william", "richard", "joseph", "charles", "mary", "patricia",
    "jennifer", "linda", "elizabeth", "barbara", "susan", "jessica", "margaret", "karen",
    "nancy", "lisa", "betty", "sandra", "ashley", "emily", "michael", "george", "peter",
}
FIRST_LAST = re.compile(rf"(?<![\w.])({_NAME})(?=\s+({_NAME}))")  # lookahead: overlapping pairs


def _name_hits(text: str) -> list[str]:
    hits = [m.group(0) for m in TITLE_NAME.finditer(text)]
    for m in FIRST_LAST.finditer(text):
        if m.group(1).lower() in _FIRST_NAMES:
            hits.append(f"{m.group(1)} {m.group(2)}")
    return hits


def _birth_dates(text: str) -> list[str]:
    found = []
    for m in FULL_DATE.finditer(text):
        window = text[max(0, m.start() - 30) : m.start()]
        if BIRTH.search(window):
            found.append(m.group(0))
    return found


def patient_data_problems(text: str, *, pseudonym: bool = False) -> list[str]:
    """What in `text` looks like it identifies a patient. Empty list: nothing found."""
    problems: list[str] = []
    for hit in NIR.findall(text):
        problems.append(f"looks like a French social-security number ({hit.strip()})")
    for hit in _birth_dates(text):
        problems.append(f"looks like a date of birth ({hit})")
    for hit in _name_hits(text):
        problems.append(f"looks like a person's name ({hit})")
    if pseudonym:
        value = text.strip()
        if FULL_DATE.search(value):
            problems.append("a pseudonym must not contain a date")
        if not re.search(r"\d", value) or len(value) > 32:
            problems.append("a pseudonym is a short code with at least one digit, such as P-014")
    return list(dict.fromkeys(problems))
