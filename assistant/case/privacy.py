"""Patient data: a case holds a pseudonym, never who the patient is.

**Screening** (`patient_data_problems`): heuristics, tuned to refuse the common slips (a name after a title, a first name and surname,
a French social-security number, a date of birth) while letting clinical facts through
("homme de 67 ans", "opéré le 12/03/2025", "NYHA III").

**Redaction** (`Redactor`) removes patient identifiers from text before it is sent to a language
model, with the same detectors (a name after a title, a first name and surname, a French
social-security number, a date of birth) and adds hospital record numbers, e-mail addresses and
phone numbers. Each identifier becomes a numbered token (`[NOM-1]`); the same identifier always
gets the same token, and a name once found is also removed where it appears alone later
("Mme Martine Durand … Durand a été opérée"). The pseudonym (`P-014`) is kept.

`restore` puts the originals back into what the model answered: that happens on this machine,
so nothing identifying ever leaves it. The list of `Redaction`s says what was removed (kind and
token, never the original) for the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from assistant.text import DATE

_TITLES = r"(?:M\.|Mr\.?|Mme\.?|Mlle\.?|Mrs\.?|Ms\.?|Miss|Monsieur|Madame|Mademoiselle)"
_NAME = r"[A-ZÀ-Ý][a-zà-ÿA-ZÀ-Ý'\-]+"
TITLE_NAME = re.compile(rf"(?<![\w.]){_TITLES}\s+{_NAME}")
NIR = re.compile(
    r"(?<!\d)[12][\s.]?\d{2}[\s.]?(?:0[1-9]|1[0-2]|[2-9]\d)[\s.]?(?:\d{2}|2[AB])"
    r"[\s.]?\d{3}[\s.]?\d{3}(?:[\s.]?\d{2})?(?!\d)"
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


def _birth_dates(text: str) -> list[re.Match[str]]:
    """The dates in `text` with a birth word ("né le", "born", "DDN") in the 30 characters before."""
    return [m for m in DATE.finditer(text) if BIRTH.search(text[max(0, m.start() - 30) : m.start()])]


def patient_data_problems(text: str, *, pseudonym: bool = False) -> list[str]:
    """What in `text` looks like it identifies a patient. Empty list: nothing found."""
    problems: list[str] = []
    for hit in NIR.findall(text):
        problems.append(f"looks like a French social-security number ({hit.strip()})")
    for hit in _birth_dates(text):
        problems.append(f"looks like a date of birth ({hit.group(0)})")
    for hit in _name_hits(text):
        problems.append(f"looks like a person's name ({hit})")
    if pseudonym:
        value = text.strip()
        if DATE.search(value):
            problems.append("a pseudonym must not contain a date")
        if not re.search(r"\d", value) or len(value) > 32:
            problems.append("a pseudonym is a short code with at least one digit, such as P-014")
    return list(dict.fromkeys(problems))


# -- redaction before a call to a language model --------------------------------------------------
_TITLE_FULL = re.compile(rf"{TITLE_NAME.pattern}(?:\s+{_NAME}){{0,2}}")
_RECORD = re.compile(
    r"\b(?:IPP|NIP|NDA|MRN|n°\s*(?:de\s+)?dossier|dossier\s+n°|patient\s+id)(?!\w)\s*[:#n°]*\s*"
    r"(?=[A-Z\-/]*\d)[A-Z0-9][A-Z0-9\-/]{3,}",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b")
_PHONE = re.compile(r"(?<![\w+])(?:\+33\s?|0)[1-9](?:[\s.\-]?\d{2}){4}(?!\d)")
_TITLE_WORDS = {"m", "mr", "mme", "mlle", "mrs", "ms", "miss", "monsieur", "madame", "mademoiselle"}
_TOKEN = re.compile(r"\[(NOM|NIR|DDN|ID|EMAIL|TEL)-(\d+)\]")
KINDS = {"NOM": "person's name", "NIR": "social-security number", "DDN": "date of birth",
         "ID": "record number", "EMAIL": "e-mail address", "TEL": "phone number"}


@dataclass(frozen=True)
class Redaction:
    kind: str  # NOM | NIR | DDN | ID | EMAIL | TEL
    token: str  # what replaced it in the text sent

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "what": KINDS[self.kind], "token": self.token}


class Redactor:
    """One per case and session: tokens stay stable across the calls it redacts."""

    def __init__(self, keep: Iterable[str] = ()) -> None:
        self.keep = [k.strip() for k in keep if k and k.strip()]
        self._tokens: dict[str, str] = {}  # original -> token
        self._originals: dict[str, str] = {}  # token -> original
        self._surnames: set[str] = set()

    def redact(self, text: str) -> tuple[str, list[Redaction]]:
        spans = self._spans(text)
        out, pos, found = [], 0, []
        for start, end, kind in spans:
            original = text[start:end]
            token = self._token_for(kind, original)
            out.append(text[pos:start])
            out.append(token)
            found.append(Redaction(kind, token))
            pos = end
        out.append(text[pos:])
        return "".join(out), found

    def restore(self, text: str) -> str:
        return _TOKEN.sub(lambda m: self._originals.get(m.group(0), m.group(0)), text)

    @property
    def active(self) -> bool:
        return bool(self._originals)

    # -- detection --------------------------------------------------------------------------
    def _token_for(self, kind: str, original: str) -> str:
        key = f"{kind}:{' '.join(original.split()).lower()}"
        if key not in self._tokens:
            n = sum(1 for t in self._originals if t.startswith(f"[{kind}-")) + 1
            token = f"[{kind}-{n}]"
            self._tokens[key] = token
            self._originals[token] = original
        return self._tokens[key]

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        hits: list[tuple[int, int, str]] = []
        for m in NIR.finditer(text):
            hits.append((m.start(), m.end(), "NIR"))
        for m in _birth_dates(text):
            hits.append((m.start(), m.end(), "DDN"))
        for m in _RECORD.finditer(text):
            hits.append((m.start(), m.end(), "ID"))
        for m in _EMAIL.finditer(text):
            hits.append((m.start(), m.end(), "EMAIL"))
        for m in _PHONE.finditer(text):
            hits.append((m.start(), m.end(), "TEL"))
        for m in _TITLE_FULL.finditer(text):
            hits.append((m.start(), m.end(), "NOM"))
            self._learn(m.group(0))
        for m in FIRST_LAST.finditer(text):
            if m.group(1).lower() in _FIRST_NAMES:
                gap = re.match(r"\s+", text[m.end(1) :])
                end = m.end(1) + (gap.end() if gap else 0) + len(m.group(2))
                hits.append((m.start(1), end, "NOM"))
                self._learn(text[m.start(1) : end])
        for word in sorted(self._surnames, key=len, reverse=True):
            for m in re.finditer(rf"(?<![\w\-]){re.escape(word)}(?![\w\-])", text):
                hits.append((m.start(), m.end(), "NOM"))
        kept = [(m.start(), m.end()) for k in self.keep for m in re.finditer(re.escape(k), text)]
        hits = [h for h in hits if not any(h[0] < e and s < h[1] for s, e in kept)]
        return _merge(hits)

    def _learn(self, name: str) -> None:
        """Remember the surname(s) of a detected name, to remove them where they appear alone."""
        for word in name.split():
            clean = word.strip(".,;:")
            low = clean.lower().rstrip(".")
            if len(clean) >= 3 and low not in _TITLE_WORDS and low not in _FIRST_NAMES:
                self._surnames.add(clean)


def _merge(hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Non-overlapping spans, left to right; the longer one wins an overlap."""
    out: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(hits, key=lambda h: (h[0], -(h[1] - h[0]))):
        if out and start < out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end, out[-1][2])
            continue
        out.append((start, end, kind))
    return out


def is_local_url(url: str) -> bool:
    """True when `url` points at this machine (loopback), so data sent there stays here."""
    import ipaddress

    try:
        host = (urlsplit(url).hostname or "").strip("[]").lower()
    except ValueError:
        return False
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
