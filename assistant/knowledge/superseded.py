"""Texts that are no longer the law: recognised at ingestion so that retrieval never grounds a
draft in them.

The reference texts of the MDR and IVDR published in 2017 hold the base wording of MDR Art. 120
and IVDR Art. 110. Their paragraphs 2 to 4 were replaced by Regulations (EU) 2020/561, 2022/112,
2023/607 and 2024/1860: the base wording says certificates "become void at the latest on
27 May 2024", that a device with such a certificate "may only be placed on the market or put into
service provided that" it continues to comply with the Directives (paragraph 3, which the amended
text makes a derogation until the dates of paragraphs 3a and 3b, under the conditions of 3c:
MDCG 2021-25 Rev.1 and MDCG 2022-8 quote it), and that devices may be made available "until
27 May 2025", which a draft would then cite as current law. A chunk carrying that wording is not
indexed; the person adding the file is told why and what to add instead (the consolidated text).
The rest of such a file is indexed, marked as the remainder of a partly superseded text
(`PARTIAL`; its other paragraphs still carry the 2017 dates, e.g. "26 May 2020", the date of
application Regulation 2020/561 moved to 26 May 2021): a question naming that article is not
steered to what is left of it, a search shows it flagged, and no section is grounded in it.
The same holds for MDR Art. 123(2), whose 2017 wording gives the date of application as
26 May 2020 (deferred to 26 May 2021 by Regulation 2020/561), and for the rest of Art. 123, whose
paragraph 3 is a list of derogations "from paragraph 2" and whose dates count from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Superseded:
    provision: str  # what the chunk is the base wording of
    replaced_by: str  # by what


# The 2017 wording, in English and French (the EUR-Lex base texts), and only it: the consolidated
# Art. 120 and Art. 110 set the 2027-2029 dates and no longer hold these phrases.
_BASE_WORDING = (
    (re.compile(r"void\s+(?:at\s+the\s+latest\s+on|by)\s+27\s+May\s+2024", re.I),
     Superseded("MDR Art. 120(2) / IVDR Art. 110(2), 2017 wording",
                "Regulations (EU) 2020/561, 2022/112, 2023/607 and 2024/1860")),
    (re.compile(r"caduc\w*\s+(?:au\s+plus\s+tard\s+)?le\s+27\s+mai\s+2024", re.I),
     Superseded("RDM art. 120(2) / RDIV art. 110(2), version de 2017",
                "règlements (UE) 2020/561, 2022/112, 2023/607 et 2024/1860")),
    # Paragraph 3 as enacted in 2017; the amended MDR Art. 120(3) and IVDR Art. 110(3) say the devices
    # "may be placed on the market or put into service until" the dates of the later paragraphs.
    (re.compile(r"may\s+only\s+be\s+placed\s+on\s+the\s+market\s+or\s+put\s+into\s+service\s+provided\s+that", re.I),
     Superseded("MDR Art. 120(3) / IVDR Art. 110(3), 2017 wording",
                "Regulations (EU) 2022/112 and 2023/607")),
    (re.compile(r"en\s+vertu\s+du\s+paragraphe\s+2\s+du\s+présent\s+article\s+ne\s+peut\s+être\s+mis\s+sur\s+le\s+marché", re.I),
     Superseded("RDM art. 120(3) / RDIV art. 110(3), version de 2017", "règlements (UE) 2022/112 et 2023/607")),
    (re.compile(r"(made\s+available\s+on\s+the\s+market\s+or\s+put\s+into\s+service|put\s+into\s+service)"
                r"[^.]{0,80}until\s+27\s+May\s+2025", re.I),
     Superseded("MDR Art. 120(4) / IVDR Art. 110(4), 2017 wording", "Regulation (EU) 2023/607")),
    (re.compile(r"jusqu'au\s+27\s+mai\s+2025", re.I),
     Superseded("RDM art. 120(4) / RDIV art. 110(4), version de 2017", "règlement (UE) 2023/607")),
    # MDR Art. 123(2) as enacted: Regulation (EU) 2020/561 deferred the date of application to
    # 26 May 2021 (the Commission's Q&A on Regulation 2023/607, question 1: "the MDR's date of
    # application (i.e. 26 May 2021)"). A search for the MDR's date of application read "26 May
    # 2020" first. English only: the French base wording was not read here.
    (re.compile(r"It\s+shall\s+apply\s+from\s+26\s+May\s+2020", re.I),
     Superseded("MDR Art. 123(2), 2017 wording", "Regulation (EU) 2020/561: date of application 26 May 2021")),
    # MDR Art. 120(8) and IVDR Art. 110(8) as enacted: registration in Eudamed deemed to meet the
    # Directives' national registration duties. Deleted by Regulation (EU) 2024/1860 (the Commission's
    # Q&A on the gradual roll-out of Eudamed, Part B, note: "Regulation (EU) 2024/1860 deleted
    # Article 120(8) MDR and Article 110(8) IVDR"). English only: the French wording was not read.
    (re.compile(r"shall\s+be\s+considered\s+to\s+comply\s+with\s+the\s+laws\s+and\s+regulations\s+adopted\s+by\s+"
                r"Member\s+States\s+in\s+accordance\s+with[^.]{0,400}Decision\s+2010/227/EU", re.I),
     Superseded("MDR Art. 120(8) / IVDR Art. 110(8), 2017 wording", "Regulation (EU) 2024/1860: paragraph deleted")),
)


def superseded(text: str) -> Superseded | None:
    """The superseded provision this text is the base wording of, or None."""
    for pattern, what in _BASE_WORDING:
        if pattern.search(text):
            return what
    return None


# The metadata key a chunk of a partly superseded text carries (the provisions not indexed with it).
PARTIAL = "superseded_parts"


def warning(filename: str, found: list[Superseded], skipped: int) -> str:
    """The message for the person adding the file (the CLI prints it, the app shows it)."""
    what = "; ".join(f"{w.provision} (replaced by {w.replaced_by})" for w in dict.fromkeys(found))
    return (f"{filename}: {skipped} passage(s) not added: they hold the superseded wording of "
            f"{what}. Add the consolidated text instead (EUR-Lex, 'current consolidated version').")


# The metadata key a chunk of a 2017 base text carries when its provision was amended since (amended.yaml).
AMENDED = "amended"
# The act a chunk is the text of, when its source says so (sources.py: the reference files' front
# matter names the EUR-Lex file it was converted from, by CELEX number). A CELEX number starting with 3 is
# the act as adopted; a consolidated version's starts with 0.
BASE_ACT = "base_act"
_AMENDED_FILE = Path(__file__).with_name("amended.yaml")


@dataclass(frozen=True)
class Amended:
    instrument: str
    article: str
    paragraph: str  # "" for the whole article
    by: str  # the amending act(s)
    read_in: str  # where the amendment is stated (a text of the corpus or of ../shared)

    @property
    def provision(self) -> str:
        where = f"{self.instrument} Art. {self.article}" + (f"({self.paragraph})" if self.paragraph else "")
        return f"{where}, 2017 wording (amended by {self.by})"


@cache
def _amendments() -> tuple[Amended, ...]:
    rows = yaml.safe_load(_AMENDED_FILE.read_text(encoding="utf-8")) or []
    return tuple(Amended(str(r["instrument"]), str(r["article"]), str(r.get("paragraph", "")), str(r["by"]),
                         str(r["read_in"])) for r in rows)


def amended(meta: dict) -> Amended | None:
    """The amendment of the provision a chunk of a 2017 base text holds, or None (any other text:
    a consolidated version, a guidance document, a note, a file whose act is not known)."""
    act = str(meta.get(BASE_ACT, ""))
    if not act.startswith("3") or meta.get("kind") not in (None, "", "official"):
        return None
    for a in _amendments():
        if (a.instrument == meta.get("instrument") and a.article == str(meta.get("article", ""))
                and (not a.paragraph or a.paragraph == str(meta.get("paragraph", "")))):
            return a
    return None
