"""Patient data: a case holds a pseudonym, never who the patient is.

ONE set of detectors (`find_identifiers`) serves the three uses, so that what the screen warns
about is what redaction removes:

- **Screening** (`screen`, `patient_data_problems`): every answer and every uploaded document's
  text is screened; a patient field (`patient_data: true` in the profile) refuses an identifier,
  elsewhere the user is warned, naming what was found and where (gate/privacy.py).
- **Redaction** (`Redactor`) removes patient identifiers from text before it is sent to a language
  model. Each identifier becomes a numbered token (`[NOM-1]`); the same identifier always gets the
  same token, and a name once found is also removed where it appears alone later ("Mme Martine
  Durand … Durand a été opérée"). What must reach the model as written (the pseudonym `P-014`, the
  manufacturer's own address and contact) is passed as `keep`.
- `restore` puts the originals back into what the model answered: that happens on this machine,
  so nothing identifying ever leaves it. The list of `Redaction`s says what was removed (kind and
  token, never the original) for the audit log.

The forms (evals/adversarial/identifiers.yaml, issue 12): names with or without a title (first name
+ surname, SURNAME First, initials + surname, particles), dates of birth (with a birth word, or a
date too old to be anything but a birth date, or a two-digit year after a birth word), NIRs
(spaces, dashes, dots, with or without the key, Corsican 2A/2B), phones (0X, +33, 0033, (0)),
e-mails (plain or "[at] … [dot]"), street addresses (French and English), postcode + city and
hospital record numbers (IPP, NIP, NDA, MRN, n° de dossier). Clinical facts stay: an age, a
surgery or certificate date, NYHA classes, a device's trade name, a physician ("Dr A. Martel"),
standards, notified-body and certificate numbers.

**Local** (`is_local_url`): a server is on this machine when every address its host name
resolves to is a loopback address (the name alone proves nothing: `localhost.localdomain` or
`x.localhost` can be mapped anywhere).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from assistant.text import DATE, date_of

if TYPE_CHECKING:
    from assistant.case.model import Case
    from assistant.case.profile import Profile

# -- the pieces of a name -------------------------------------------------------------------------
_UP = "A-ZÀ-ÖØ-Ý"
_LOW = "a-zß-öø-ÿ"
_APOS = "'’"
# A capitalised word: "Durand", "Marie-Claire", "N'Diaye", "O'Connor", "Fontaine-Lebrun".
_W = rf"[{_UP}](?:[{_LOW}]+|(?=[{_APOS}]))(?:[{_APOS}\-][{_UP}{_LOW}][{_LOW}]+)*(?![\w{_APOS}\-])"
# A surname in capitals: "DUPONT", "LE GOFF" (a particle, then the name).
_U = rf"(?:(?:LE|LA|DE|DU|DA|DI|DES|VAN|VON|EL|AL|BEN|MAC|MC)\s+)?[{_UP}]{{3,}}(?:[{_APOS}\-][{_UP}]+)*(?![\w{_APOS}\-])"
# Initials: "J.-P.", "A.", "J.P."
_INITIALS = rf"[{_UP}]\.(?:-?[{_UP}]\.)*"
_TITLES = r"(?:M\.|Mr\.?|Mme\.?|Mlle\.?|Mrs\.?|Ms\.?|Miss|Monsieur|Madame|Mademoiselle)"
_PHYSICIAN = re.compile(r"(?:\b(?:Dr|Pr|Prof|Docteur|Doctor|Professeur|Professor)\.?|\bDr\.)\s+(?:\S+\s+){0,1}$")
_NAME_PART = rf"(?:{_W}|{_U}|{_INITIALS})"

TITLE_NAME = re.compile(rf"(?<![\w.]){_TITLES}[ \t]+{_NAME_PART}(?:,?[ \t]+{_NAME_PART}){{0,3}}")
_CAPS_FIRST = re.compile(rf"(?<![\w.])({_U}),?[ \t]+({_W}(?:[ \-]{_W})?)")  # DUPONT Marie, SMITH, John
_FIRST_CAPS = re.compile(rf"(?<![\w.])({_W})[ \t]+({_U})")  # Marie DURAND
_INITIALS_NAME = re.compile(rf"(?<![\w.]){_INITIALS}[ \t]*{_W}")  # J.-P. Moreau
_RUN = re.compile(rf"(?<![\w.{_APOS}\-]){_W}(?:[ \t]+{_W})+")  # Gaëtan Lefebvre, Nguyen Thi Lan
_WORD = re.compile(_W)

# Capitalised words that start sentences or name institutions, months and days: never a person.
_NOT_NAMES = {
    # French and English function words and frequent sentence starts
    "le", "la", "les", "l", "un", "une", "des", "du", "de", "au", "aux", "ce", "cet", "cette", "ces",
    "son", "sa", "ses", "leur", "leurs", "notre", "nos", "votre", "vos", "mon", "ma", "mes", "il", "elle",
    "ils", "elles", "on", "nous", "vous", "je", "j", "et", "ou", "mais", "donc", "car", "ni", "si", "en",
    "dans", "par", "pour", "sur", "sous", "avec", "sans", "chez", "entre", "vers", "selon", "depuis",
    "après", "avant", "pendant", "lors", "dès", "lorsque", "quand", "comme", "ainsi", "aucun", "aucune",
    "tout", "tous", "toute", "toutes", "chaque", "plusieurs", "certains", "cela", "ceci", "voici", "voir",
    "the", "a", "an", "this", "that", "these", "those", "his", "her", "their", "our", "your", "my", "its",
    "he", "she", "they", "we", "you", "i", "it", "and", "or", "but", "so", "if", "in", "at", "by",
    "for", "with", "without", "from", "to", "of", "after", "before", "during", "since", "when", "while",
    "as", "each", "every", "all", "no", "none", "some", "any", "there", "here", "see", "per", "via",
    "patient", "patiente", "patients", "homme", "femme", "enfant", "monsieur", "madame", "objet", "lettre",
    "letter", "dear", "cher", "chère", "madam", "sir", "messieurs", "docteur", "doctor", "professeur",
    "dr", "pr", "prof", "professor", "use", "write", "answer", "cite", "give", "return", "keep", "do", "never",
    "always", "only", "utilisez", "écrivez", "répondez", "citez", "donnez", "ne", "n'", "mr", "mrs", "ms", "mme", "mlle", "miss",
    # institutions, places and documents
    "agence", "nationale", "national", "sécurité", "santé", "publique", "haute", "autorité", "ministère",
    "direction", "commission", "european", "européenne", "européen", "europe", "union", "conseil", "council",
    "parliament", "parlement", "règlement", "regulation", "directive", "décision", "decision", "article",
    "annexe", "annex", "code", "loi", "law", "décret", "arrêté", "notified", "body", "organisme", "notifié",
    "centre", "center", "hospitalier", "hospitalière", "universitaire", "hôpital", "hôpitaux", "hospital",
    "clinique", "clinic", "institut", "institute", "université", "university", "service", "département",
    "department", "unité", "unit", "pôle", "groupe", "group", "fondation", "foundation", "société",
    "company", "laboratoire", "laboratoires", "medical", "médical", "médicale", "heart", "team", "rue",
    "avenue", "boulevard", "street", "road", "france", "french", "english", "paris", "lyon", "marseille",
    "cedex", "république", "assistance", "déclaration", "declaration", "certificat",
    "certificate", "conformité", "conformity", "instructions", "notice", "plan", "rapport", "report",
    "protocole", "protocol", "annexes", "chapitre", "chapter", "section", "partie", "part", "titre", "title",
    "dispositif", "device", "devices", "dispositifs", "valve", "système", "system", "basic", "classe",
    "class", "risk", "risque", "étude", "study", "essai", "trial", "bis", "ter", "flat", "apartment",
    "nyha", "grade", "stade", "stage", "type", "score", "member", "state", "states", "état", "états",
    "membre", "membres", "director", "directeur", "directrice", "general", "général", "générale", "health",
    "official", "journal", "officiel", "manufacturer", "fabricant", "information", "form", "formulaire",
    "products", "product", "produits", "produit", "safety", "agency", "medicines", "médicament", "médicaments",
    # diseases and clinical eponyms ("Parkinson Disease", "Tétralogie de Fallot"), saints in place names
    "disease", "maladie", "syndrome", "disorder", "trouble", "cancer", "tumour", "tumor", "sclerosis",
    "sclérose", "tétralogie", "tetralogy", "anomalie", "anomaly", "classification", "scale", "échelle",
    "test", "procedure", "procédure", "technique", "sign", "signe", "saint", "sainte", "st", "ste",
    "parkinson", "alzheimer", "crohn", "hodgkin", "huntington", "marfan", "ebstein", "fallot", "barlow",
    "kawasaki", "duchenne", "basedow", "charcot", "down", "turner", "wolff", "brugada", "takotsubo",
    "female", "male", "girl", "boy", "fille", "garçon",
    # months and days
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
    "novembre", "décembre", "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december", "lundi", "mardi", "mercredi", "jeudi", "vendredi",
    "samedi", "dimanche", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}
# Capitals that are acronyms of the trade (not surnames): "CHU Montpellier", "NYHA Classe".
_ACRONYMS = {
    "CHU", "CHRU", "CHR", "APHP", "HCL", "NYHA", "FEVG", "LVEF", "RCP", "ISO", "IEC", "CEN", "IUD", "UDI",
    "ANSM", "MDR", "IVDR", "MDD", "AIMDD", "NIR", "IPP", "NDA", "MRN", "NIP", "DDN", "TAVI", "TAVR", "IRM",
    "MRI", "ECG", "ETO", "ETT", "HTA", "BPCO", "COPD", "AVC", "FDA", "HAS", "CNIL", "RGPD", "GDPR", "DMDIV",
    "IVD", "MDCG", "SAMU", "SMUR", "ARS", "CPP", "EMA", "NHS", "ICU", "USA", "EEC", "CEE", "TMV", "DMI",
    "EUDAMED", "SRN", "PSUR", "PMCF", "PMS", "SSCP", "CER", "IFU", "EMDN", "GMDN", "CSP", "JORF", "JOUE",
    "OJEU", "SAS", "SARL", "SASU", "GMBH", "LTD", "INC", "PDF", "DOCX", "URL", "NB", "CE", "EU", "UE",
    # words in capitals for emphasis ("Use ONLY the facts"), not surnames
    "ONLY", "NOT", "NEVER", "MUST", "ALL", "AND", "ANY", "EACH", "EVERY", "ALWAYS", "NONE", "SEUL", "SEULS",
    "SEULEMENT", "JAMAIS", "PAS", "TOUT", "TOUS", "TOUTE", "TOUTES", "AUCUN", "AUCUNE", "DOIT", "NOTE",
    "IMPORTANT", "WARNING", "ATTENTION", "URGENT", "URGENCE", "YES", "OUI", "NON", "TRUE", "FALSE", "JSON",
    "EURO", "SCORE", "ART", "CERTIFICATE", "CERTIFICAT", "DIRECTIVE", "ANNEX", "ANNEXE", "ARTICLE", "STS", "RPPS", "ADELI", "FINESS", "SIRET", "SIREN", "TVA", "VAT", "OMS", "WHO",
}

# -- other identifiers ----------------------------------------------------------------------------
NIR = re.compile(
    r"(?<![\d\-])[12][\s.\-]?\d{2}[\s.\-]?(?:0[1-9]|1[0-2]|[2-9]\d)[\s.\-]?(?:\d{2}|2[AB])"
    r"[\s.\-]?\d{3}[\s.\-]?\d{3}(?:[\s.\-]?\d{2})?(?![\d\-])"
)
BIRTH = re.compile(
    r"(?:\b(?:né|née|nee|nés|naissance|born|birth|dob|d\.o\.b\.?|ddn|dn)\b|(?<![\w.])b\.)", re.IGNORECASE
)
_SHORT_DATE = re.compile(r"(?<![\w/.\-])\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}(?![\w/.\-])")  # 12/03/58
# Words before an old date that make it something other than a birth date (a certificate, a law).
_NOT_BIRTH = re.compile(
    r"(?:certif|délivr|deliv|issued|expir|valid|valabl|directive|norme|standard|décision|decision|arrêté|"
    r"décret|loi\b|law\b|règlement|regulation|marquage|marked|marking|approuv|approv)",
    re.IGNORECASE,
)
BIRTH_AGE_YEARS = 18  # an undated-context date at least this old is read as a date of birth
_RECORD = re.compile(
    r"\b(?:IPP|NIP|NDA|MRN|n°\s*(?:de\s+)?dossier|dossier\s+n°|patient\s+id|record\s+(?:no|number)|"
    r"n°\s*(?:de\s+)?séjour|hospital\s+(?:no|number))(?!\w)\s*[:#n°.]*\s*(?=[A-Z\-/]*\d)[A-Z0-9][A-Z0-9\-/]{3,}",
    re.IGNORECASE,
)
_EMAIL = re.compile(
    r"(?<![\w.+\-])[\w.+\-]+(?:@|\s*[\[({]\s*(?:at|arobase)\s*[\])}]\s*)[\w\-]+"
    r"(?:(?:\.|\s*[\[({]\s*(?:dot|point)\s*[\])}]\s*)[\w\-]+)+",
    re.IGNORECASE,
)
_PHONE = re.compile(
    r"(?<![\w+\-/])(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?|0)[1-9](?:[\s.\-]?\d{2}){4}(?!\d)"
    r"|(?<![\w+\-/])(?:\+|00)[1-9]\d{0,2}(?:\s?\(0\))?(?:[\s.\-]?\d){8,11}(?!\d)"
)
_STREET_FR = (
    r"(?:rue|avenue|av\.|boulevard|bd|place|impasse|allée|chemin|route|quai|cours|square|passage|voie|"
    r"faubourg|rond-point|lotissement|résidence|lieu-dit|hameau|cité|sentier|promenade|villa)"
)
_ADDRESS = re.compile(
    rf"(?<![\w,])\d{{1,4}}(?:\s*(?:bis|ter|quater|[A-D])\b)?,?\s+(?i:{_STREET_FR})\b"
    rf"(?:\s+(?:de|du|des|de\s+la|de\s+l['’]|d['’]|l['’]|la|le|les|aux?))*\s*{_W}(?:[\s\-]+{_W}){{0,3}}"
    rf"|(?:(?:Flat|Apartment|Apt\.?|Unit|Suite)\s+\d+[A-Z]?,\s*)?(?<![\w,])\d{{1,4}}[A-Z]?\s+{_W}(?:\s+{_W}){{0,2}}\s+"
    r"(?:Street|St\.|Road|Rd\.?|Avenue|Ave\.?|Lane|Drive|Close|Way|Place|Court|Crescent|Terrace|Gardens|Square)\b"
    rf"|(?:Flat|Apartment|Apt\.?|Unit|Suite)\s+\d+[A-Z]?,\s*\d{{1,4}}[A-Z]?\s+{_W}(?:\s+{_W}){{0,3}}",
)
_POSTCODE_CITY = re.compile(
    rf"(?<![\w\-:.])(?<!ISO )(?<!EN )(?<!IEC )(?<!NF )(?:0[1-9]|[1-8]\d|9[0-8]|2[AB])\d{{3}}\s+{_W}(?:[\s\-]+(?:{_W}|sur|sous|en|le|la|les|de|du|des|lès))*(?:\s+CEDEX(?:\s+\d{{1,2}})?)?"
)


_AT = re.compile(r"[\[({]\s*(?:at|arobase)\s*[\])}]", re.IGNORECASE)
_STREET_WORD = re.compile(
    rf"\d[\s,]+(?:(?:bis|ter|quater|[A-D])\s+)?(?i:{_STREET_FR})\b|\b(?:Street|St\.|Road|Rd\.?|Avenue|Ave\.?|Lane|Drive|"
    r"Close|Way|Place|Court|Crescent|Terrace|Gardens|Square)\b|\b(?:Flat|Apartment|Apt\.?|Unit|Suite)\s+\d"
)
_FIVE_DIGITS = re.compile(rf"(?<!\d)(?:\d{{5}}|2[AB]\d{{3}})\s+[{_UP}]")


@dataclass(frozen=True)
class Found:
    """One identifier in a text: its kind, the text itself and where it is (characters)."""

    kind: str  # NOM | DDN | NIR | TEL | EMAIL | ADR | CP | ID
    value: str
    start: int
    end: int


KINDS = {"NOM": "person's name", "NIR": "social-security number", "DDN": "date of birth",
         "ID": "record number", "EMAIL": "e-mail address", "TEL": "phone number",
         "ADR": "street address", "CP": "postcode and city"}
_TOKEN = re.compile(r"\[(NOM|NIR|DDN|ID|EMAIL|TEL|ADR|CP)-(\d+)\]")


_ELIDED = {"l", "d", "j", "s", "c", "n", "m", "t", "qu", "lorsqu", "puisqu", "jusqu", "quoiqu"}


def _is_name(words: list[str]) -> bool:
    """A run of capitalised words is a name unless a word is a known non-name ("Lorsqu'un" neither)."""
    for w in words:
        low = w.lower().strip(".,").replace("’", "'")
        if low in _NOT_NAMES or w.upper().strip(".,") in _ACRONYMS or re.fullmatch(r"[ivx]+", low):
            return False
        if "'" in low and low.split("'")[0] in _ELIDED and low.split("'")[1] in _NOT_NAMES | {"un", "une"}:
            return False
        head, _, rest = w.replace("’", "'").partition("'")
        if rest and head.lower() in _ELIDED and rest[:1].islower():  # "L'investigation", never "D'Artagnan"
            return False
    return True


def _after_physician_title(text: str, start: int) -> bool:
    return bool(_PHYSICIAN.search(text[max(0, start - 20) : start]))


def _name_hits(text: str) -> list[tuple[int, int]]:
    hits: list[tuple[int, int]] = []
    for m in TITLE_NAME.finditer(text):
        hits.append((m.start(), m.end()))
    for m in _FIRST_CAPS.finditer(text):
        if _is_name([m.group(1), *m.group(2).split()]) and not _after_physician_title(text, m.start()):
            hits.append((m.start(), m.end()))
    for m in _CAPS_FIRST.finditer(text):
        if not _is_name([*m.group(1).split(), *m.group(2).split()]):
            continue
        if not _after_physician_title(text, m.start()):
            hits.append((m.start(), m.end()))
    for m in _INITIALS_NAME.finditer(text):
        if not _after_physician_title(text, m.start()) and _is_name([m.group(0).split()[-1]]):
            hits.append((m.start(), m.end()))
    # Runs of capitalised words ("La patiente Marie-Claire Fontaine-Lebrun", "I saw Oliver Whitfield"):
    # the longest stretches of two to four words none of which is a known non-name.
    for run in _RUN.finditer(text):
        words = [(w.start() + run.start(), w.end() + run.start()) for w in _WORD.finditer(run.group(0))]
        stretch: list[tuple[int, int]] = []
        for span in [*words, None]:
            if span is not None and _is_name([text[span[0] : span[1]]]):
                stretch.append(span)
                continue
            if len(stretch) >= 2 and not _after_physician_title(text, stretch[0][0]):
                hits.append((stretch[0][0], stretch[min(len(stretch), 4) - 1][1]))
            stretch = []
    return hits


_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_DATE_REACH = 30  # a date of the grammar ends with its year and starts at most this far before it


def _dates(text: str) -> list[re.Match[str]]:
    """The dates of the shared grammar (assistant.text.DATE) in `text`, found around each year only:
    the grammar tried at every position of a long document is what made screening slow."""
    found: dict[int, re.Match[str]] = {}
    for y in _YEAR.finditer(text):
        start = max(0, y.start() - _DATE_REACH)
        for m in DATE.finditer(text, start, min(len(text), y.end() + 6)):  # 1958-03-12 starts with it
            if m.start() <= y.start() and m.end() >= y.end():
                found.setdefault(m.start(), m)
    return [found[k] for k in sorted(found)]


def _birth_dates(text: str, today: dt.date | None = None) -> list[tuple[int, int]]:
    """Dates of birth: a date with a birth word ("né le", "born", "DDN", "b.") in the 30 characters
    before it, a date at least `BIRTH_AGE_YEARS` old that no certificate or law word precedes, and a
    two-digit-year date after a birth word."""
    today = today or dt.date.today()
    out = []
    for m in _dates(text):
        before = text[max(0, m.start() - 30) : m.start()]
        if BIRTH.search(before):
            out.append((m.start(), m.end()))
            continue
        day = date_of(m)
        if day is not None and (today - day).days >= BIRTH_AGE_YEARS * 365 and not _NOT_BIRTH.search(
            text[max(0, m.start() - 50) : m.start()]
        ):
            out.append((m.start(), m.end()))
    for m in _SHORT_DATE.finditer(text):
        if BIRTH.search(text[max(0, m.start() - 30) : m.start()]):
            out.append((m.start(), m.end()))
    return out


def find_identifiers(text: str, *, today: dt.date | None = None) -> list[Found]:
    """Every patient identifier in `text`, left to right, without overlaps (the longer wins)."""
    hits: list[tuple[int, int, str]] = []
    hits += [(m.start(), m.end(), "NIR") for m in NIR.finditer(text)]
    hits += [(s, e, "DDN") for s, e in _birth_dates(text, today)]
    hits += [(m.start(), m.end(), "ID") for m in _RECORD.finditer(text)]
    # Each costly pattern runs only where a cheap test says it can match (long documents).
    if "@" in text or _AT.search(text):
        hits += [(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text)]
    hits += [(m.start(), m.end(), "TEL") for m in _PHONE.finditer(text)]
    if _STREET_WORD.search(text):
        hits += [(m.start(), m.end(), "ADR") for m in _ADDRESS.finditer(text)]
    if _FIVE_DIGITS.search(text):
        hits += [(m.start(), m.end(), "CP") for m in _POSTCODE_CITY.finditer(text)]
    hits += [(s, e, "NOM") for s, e in _name_hits(text)]
    return [Found(kind, text[s:e], s, e) for s, e, kind in _merge(hits)]


# -- screening --------------------------------------------------------------------------------------
def screen(text: str, *, today: dt.date | None = None) -> list[Found]:
    """What in `text` looks like it identifies a patient (the same detectors as redaction)."""
    return find_identifiers(text, today=today)


def patient_data_problems(text: str, *, pseudonym: bool = False) -> list[str]:
    """What in `text` looks like it identifies a patient, in words. Empty list: nothing found."""
    problems = [f"looks like a {KINDS[f.kind]} ({f.value.strip()})" for f in screen(text)]
    if pseudonym:
        value = text.strip()
        if DATE.search(value):
            problems.append("a pseudonym must not contain a date")
        if not re.search(r"\d", value) or len(value) > 32:
            problems.append("a pseudonym is a short code with at least one digit, such as P-014")
    return list(dict.fromkeys(problems))


# -- redaction before a call to a language model --------------------------------------------------
_TITLE_WORDS = {"m", "mr", "mme", "mlle", "mrs", "ms", "miss", "monsieur", "madame", "mademoiselle"}


@dataclass(frozen=True)
class Redaction:
    kind: str  # one of KINDS
    token: str  # what replaced it in the text sent

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "what": KINDS[self.kind], "token": self.token}


class Redactor:
    """One per case and session: tokens stay stable across the calls it redacts. `keep`: texts that
    must reach the model as written (the pseudonym, the manufacturer's own address and contact)."""

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

    def _token_for(self, kind: str, original: str) -> str:
        key = f"{kind}:{' '.join(original.split()).lower()}"
        if key not in self._tokens:
            n = sum(1 for t in self._originals if t.startswith(f"[{kind}-")) + 1
            token = f"[{kind}-{n}]"
            self._tokens[key] = token
            self._originals[token] = original
        return self._tokens[key]

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        kept = [(m.start(), m.end()) for k in self.keep for m in re.finditer(re.escape(k), text)]
        hits = [(f.start, f.end, f.kind) for f in find_identifiers(text)]
        hits = [h for h in hits if not any(h[0] < e and s < h[1] for s, e in kept)]
        for start, end, kind in hits:
            if kind == "NOM":
                self._learn(text[start:end])
        for word in sorted(self._surnames, key=len, reverse=True):
            for m in re.finditer(rf"(?<![\w\-]){re.escape(word)}(?![\w\-])", text):
                if not any(m.start() < e and s < m.end() for s, e in kept):
                    hits.append((m.start(), m.end(), "NOM"))
        return _merge(hits)

    def _learn(self, name: str) -> None:
        """Remember the surname(s) of a detected name, to remove them where they appear alone."""
        for word in name.replace(",", " ").split():
            clean = word.strip(".,;:")
            low = clean.lower().rstrip(".")
            if len(clean) >= 3 and low not in _TITLE_WORDS and low not in _NOT_NAMES and "." not in clean:
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


# -- where a server is ----------------------------------------------------------------------------
Resolver = Callable[[str], list[str]]


def _resolve(host: str) -> list[str]:
    """Every address `host` resolves to on this machine (hosts file, then DNS); [] when none."""
    try:
        return [info[4][0] for info in socket.getaddrinfo(host, None)]
    except (OSError, UnicodeError, ValueError):
        return []


def is_local_url(url: str, resolve: Resolver = _resolve) -> bool:
    """True when `url` points at this machine: every address its host resolves to is a loopback
    address (an IP literal is judged as written). A name that does not resolve is not local."""
    try:
        host = (urlsplit(url.strip()).hostname or "").strip("[]").lower()
    except ValueError:
        return False
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        pass
    addresses = resolve(host)
    loopback = []
    for address in addresses:
        try:
            loopback.append(ipaddress.ip_address(address.split("%")[0]).is_loopback)
        except ValueError:
            loopback.append(False)
    return bool(loopback) and all(loopback)


# -- a case: what to keep, what to warn about ------------------------------------------------------
# In a document of a kind that is not about a patient, only the forms no manufacturer's document
# carries are screened (its signatories, address and phone are the manufacturer's own).
DOCUMENT_KINDS_ALWAYS = frozenset({"NIR", "DDN", "ID"})


@dataclass(frozen=True)
class Place:
    """Where identifiers were found: an answer (`question_id`) or a document's page."""

    found: tuple[Found, ...]
    question_id: str = ""
    evidence_id: str = ""
    filename: str = ""
    page: int = 0


def keep_for(profile: Profile, case: Case) -> list[str]:
    """What reaches a language model as written: the pseudonym, and the applicant's own answers
    (its address, contact, signatory) with each identifier-like piece of them on its own."""
    keep = [case.value(q.id) or "" for q in profile.all_questions() if q.pseudonym or q.applicant_data]
    pieces = [f.value for value in keep for f in find_identifiers(value)]
    return [k for k in dict.fromkeys([*keep, *pieces]) if k.strip()]


def _without_kept(found: list[Found], text: str, keep: list[str]) -> list[Found]:
    kept = [(m.start(), m.end()) for k in keep for m in re.finditer(re.escape(k), text)]
    return [f for f in found if not any(f.start < e and s < f.end for s, e in kept)]


def screen_answers(profile: Profile, case: Case) -> list[Place]:
    """The answers holding something that looks like a patient identifier (applicant fields aside)."""
    keep = keep_for(profile, case)
    questions = {q.id: q for q in profile.all_questions()}
    out = []
    for qid, answer in case.answers.items():
        question = questions.get(qid)  # an answer the profile no longer asks for is screened too
        if question is not None and (question.applicant_data or question.pseudonym):
            continue
        found = _without_kept(screen(answer.value), answer.value, keep)
        if found:
            out.append(Place(tuple(found), question_id=qid))
    return out


def screen_pages(pages: list[str], *, patient_kind: bool, keep: Iterable[str] = ()) -> list[tuple[int, list[Found]]]:
    """(page number, identifiers) for each page of a document holding some. `patient_kind`: the
    document is about a patient (every form is screened), else only DOCUMENT_KINDS_ALWAYS."""
    out = []
    for n, text in enumerate(pages, start=1):
        found = _without_kept(screen(text), text, list(keep))
        if not patient_kind:
            found = [f for f in found if f.kind in DOCUMENT_KINDS_ALWAYS]
        if found:
            out.append((n, found))
    return out


_SCREENED: dict[tuple, list[tuple[int, list[Found]]]] = {}  # a document's text never changes: once each
_SCREENED_KEPT = 256


def screen_documents(profile: Profile, case: Case, pages_of: Callable[[str], list[str]]) -> list[Place]:
    """The pages of the case's documents holding something that looks like a patient identifier."""
    keep = keep_for(profile, case)
    patient_kinds = {k.id for k in profile.evidence_kinds if k.patient_data}
    out = []
    for ev in case.evidence:
        key = (ev.sha256, ev.kind in patient_kinds, tuple(keep))
        if key not in _SCREENED:
            try:
                pages = pages_of(ev.sha256)
            except (OSError, ValueError):
                continue
            if len(_SCREENED) >= _SCREENED_KEPT:
                _SCREENED.pop(next(iter(_SCREENED)))
            _SCREENED[key] = screen_pages(pages, patient_kind=key[1], keep=keep)
        for page, found in _SCREENED[key]:
            out.append(Place(tuple(found), evidence_id=ev.id, filename=ev.filename, page=page))
    return out
