"""Texts that are no longer the law: recognised at ingestion so that retrieval never grounds a
draft in them.

The reference texts of the MDR and IVDR published in 2017 hold the base wording of MDR Art. 120
and IVDR Art. 110. Their paragraphs 2 to 4 were replaced by Regulations (EU) 2020/561, 2022/112,
2023/607 and 2024/1860: the base wording says certificates "become void at the latest on
27 May 2024" and devices may be made available "until 27 May 2025", which a draft would then cite
as current law. A chunk carrying that wording is not indexed; the person adding the file is told
why and what to add instead (the consolidated text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


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
    (re.compile(r"(made\s+available\s+on\s+the\s+market\s+or\s+put\s+into\s+service|put\s+into\s+service)"
                r"[^.]{0,80}until\s+27\s+May\s+2025", re.I),
     Superseded("MDR Art. 120(4) / IVDR Art. 110(4), 2017 wording", "Regulation (EU) 2023/607")),
    (re.compile(r"jusqu'au\s+27\s+mai\s+2025", re.I),
     Superseded("RDM art. 120(4) / RDIV art. 110(4), version de 2017", "règlement (UE) 2023/607")),
)


def superseded(text: str) -> Superseded | None:
    """The superseded provision this text is the base wording of, or None."""
    for pattern, what in _BASE_WORDING:
        if pattern.search(text):
            return what
    return None


def warning(filename: str, what: Superseded, skipped: int) -> str:
    """The message for the person adding the file (the CLI prints it, the app shows it)."""
    return (f"{filename}: {skipped} passage(s) not added: they hold the superseded wording of "
            f"{what.provision} (replaced by {what.replaced_by}). Add the consolidated text instead "
            "(EUR-Lex, 'current consolidated version').")
