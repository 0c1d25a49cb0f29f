"""The treating physician's urgency letter: its fields as data, checks, and rendering in French or
English as structured text (preview), DOCX (to sign) and PDF (attached to the case).

The patient appears by pseudonym only: every patient field is screened like the case's own patient
fields. The letter says only what the physician wrote, plus the legal basis and the usual courtesy
and consent formulas, all visible before signing.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from assistant import words as i18n
from assistant.case.answers import MAX_ANSWER_CHARS
from assistant.case.model import Case
from assistant.case.privacy import patient_data_problems
from assistant.case.profile import Lang, Profile
from assistant.documents.pdf import Block, Run
from assistant.errors import LetterError
from assistant.text import clean_text, format_date


@dataclass(frozen=True)
class LetterField:
    id: str
    group: str  # physician | patient | justification | signature
    label: dict[str, str]
    help: dict[str, str]
    long: bool = False
    required: bool = True
    patient_data: bool = False
    pseudonym: bool = False
    applies_to: tuple[str, ...] = ("individual", "global")

    def text(self, lang: Lang) -> str:
        return self.label[lang]


FIELDS: tuple[LetterField, ...] = (
    LetterField("physician_name", "physician", {"fr": "Nom du médecin", "en": "Physician's name"},
                {"fr": "Prénom et nom, tels qu'ils figureront sous la signature.", "en": "First name and surname, as under the signature."}),
    LetterField("specialty", "physician", {"fr": "Spécialité", "en": "Specialty"},
                {"fr": "Par ex. cardiologie interventionnelle.", "en": "E.g. interventional cardiology."}),
    LetterField("hospital", "physician", {"fr": "Établissement de santé", "en": "Hospital"},
                {"fr": "Nom et ville de l'établissement.", "en": "Name and city of the hospital."}),
    LetterField("department", "physician", {"fr": "Service", "en": "Department"},
                {"fr": "Le service où le patient est pris en charge.", "en": "The department treating the patient."}),
    LetterField("rpps", "physician", {"fr": "Numéro RPPS", "en": "RPPS number"},
                {"fr": "Les 11 chiffres de votre identifiant RPPS.", "en": "The 11 digits of your RPPS identifier."}),
    LetterField("patient_pseudonym", "patient", {"fr": "Pseudonyme du patient", "en": "Patient pseudonym"},
                {"fr": "Un code comme P-014 : jamais le nom ni la date de naissance.", "en": "A code such as P-014: never the name or date of birth."},
                patient_data=True, pseudonym=True, applies_to=("individual",)),
    LetterField("patient_group", "patient", {"fr": "Patients concernés", "en": "Patients concerned"},
                {"fr": "La population visée et vos critères (sans données identifiantes).", "en": "The population and your criteria (no identifying data)."},
                long=True, patient_data=True, applies_to=("global",)),
    LetterField("condition", "patient", {"fr": "Situation clinique et contexte", "en": "Medical condition and context"},
                {"fr": "Pathologie, sévérité, âge et sexe, antécédents, prise en charge actuelle.", "en": "Disease, severity, age and sex, history, current care."},
                long=True, patient_data=True),
    LetterField("ci_impossibility", "justification",
                {"fr": "Pourquoi une investigation clinique n'est pas possible", "en": "Why a clinical investigation is not possible"},
                {"fr": "Aucune étude ouverte, critères d'inclusion, délais…", "en": "No open study, inclusion criteria, timing…"},
                long=True, patient_data=True),
    LetterField("alternatives", "justification",
                {"fr": "Alternatives tentées ou écartées, et pourquoi", "en": "Alternatives tried or ruled out, and why"},
                {"fr": "Dispositifs marqués CE, médicaments, chirurgie : résultat ou raison de l'exclusion.", "en": "CE-marked devices, drugs, surgery: outcome or reason for ruling out."},
                long=True, patient_data=True),
    LetterField("urgency", "justification", {"fr": "Urgence", "en": "Urgency"},
                {"fr": "Le délai en jeu et ce qui arriverait sans le dispositif.", "en": "The time frame and what would happen without the device."},
                long=True, patient_data=True),
    LetterField("expected_benefit", "justification", {"fr": "Bénéfice attendu", "en": "Expected benefit"},
                {"fr": "Le bénéfice clinique attendu et les données sur lesquelles il repose.", "en": "The expected clinical benefit and the data behind it."},
                long=True, patient_data=True),
    LetterField("place", "signature", {"fr": "Lieu de signature", "en": "Place of signature"},
                {"fr": "La ville, pour « Fait à … ». Facultatif.", "en": "The city, for 'Signed at …'. Optional."}, required=False),
)
GROUPS = {
    "physician": {"fr": "Vous", "en": "You"},
    "patient": {"fr": "Le patient", "en": "The patient"},
    "justification": {"fr": "La justification", "en": "The justification"},
    "signature": {"fr": "Signature", "en": "Signature"},
}


def fields_for(case: Case) -> list[LetterField]:
    return [f for f in FIELDS if case.request_type in f.applies_to]


def field(field_id: str) -> LetterField:
    for f in FIELDS:
        if f.id == field_id:
            return f
    raise LetterError(f"unknown letter field {field_id!r}")


def validate(f: LetterField, raw: str) -> str:
    """The value to record, or `LetterError` with a one-line reason (nothing is recorded then)."""
    value = clean_text(raw)
    if len(value) > MAX_ANSWER_CHARS:
        raise LetterError(f"{f.label['en']}: too long ({len(value)} characters, the limit is {MAX_ANSWER_CHARS})")
    if not value:
        return ""
    if f.id == "rpps":
        digits = re.sub(r"[\s.\-]", "", value)
        if not re.fullmatch(r"\d{11}", digits):
            raise LetterError(f"RPPS number: 11 digits expected, got {value!r}")
        return digits
    if f.id == "physician_name":  # the letter writes "Dr {name}": a typed title would read "Dr Dr …"
        value = re.sub(r"^(?:dr\.?|docteur|doctor)\s+", "", value, flags=re.IGNORECASE)
    if f.patient_data:
        problems = patient_data_problems(value, pseudonym=f.pseudonym)
        if problems:
            raise LetterError(f"{f.label['en']}: patient data must be pseudonymised: {'; '.join(problems)}")
    if not f.long:
        value = re.sub(r"\s+", " ", value)
    return value


def values(case: Case) -> dict[str, str]:
    """The letter's fields as they read: those the physician gave, the patient's pseudonym pre-filled
    from the request until the physician gives another (the request already holds it)."""
    known = dict(case.letter.fields)
    pseudonym = case.value("patient_pseudonym")
    if pseudonym and "patient_pseudonym" not in known and any(f.id == "patient_pseudonym" for f in fields_for(case)):
        known["patient_pseudonym"] = pseudonym
    return known


def missing(case: Case) -> list[LetterField]:
    given = values(case)
    return [f for f in fields_for(case) if f.required and not given.get(f.id)]


def digest(case: Case, lang: Lang) -> str:
    """What a rendered letter is built from: a change means an attached letter is out of date."""
    material = {"lang": lang, "fields": values(case), "device": case.device,
                "applicant": case.value("applicant_name"), "type": case.request_type}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


def render(profile: Profile, case: Case, lang: Lang) -> list[Block]:
    """The letter as blocks of text; a field not given yet is a visible gap, never a guess."""
    given = values(case)

    def v(fid: str) -> str:
        label = field(fid).label[lang]  # "Numéro RPPS" -> "numéro RPPS", acronyms kept
        return given.get(fid) or f"[{i18n.t('todo', lang, label[:1].lower() + label[1:])}]"

    def runs(text: str) -> tuple[Run, ...]:
        parts = re.split(r"(\[(?:À COMPLÉTER|TO COMPLETE)[^\]]*\])", text)
        return tuple(Run(p, mark=p.startswith("[")) for p in parts if p)

    day = (case.letter.updated_at or case.updated_at).date().isoformat()
    date = format_date(day, lang)
    device = case.device or f"[{i18n.t('todo', lang, 'dispositif' if lang == 'fr' else 'device')}]"
    maker = i18n.t("maker", lang, case.value("applicant_name")) if case.value("applicant_name") else ""
    basis = i18n.t("basis_ivdr" if case.value("is_ivd") == "yes" else "basis_mdr", lang)
    if case.request_type == "individual":
        whom = i18n.t("whom_individual", lang, v("patient_pseudonym"))
        subject = i18n.t("subject_individual", lang, device, v("patient_pseudonym"))
    else:
        whom = i18n.t("whom_global", lang, v("patient_group").rstrip("."))
        subject = i18n.t("subject_global", lang, device)
    name = v("physician_name")
    blocks = [
        Block("meta", runs(f"Dr {name}")),
        Block("meta", runs(v("specialty"))),
        Block("meta", runs(f"{v('department')} — {v('hospital')}")),
        Block("meta", runs(f"RPPS : {v('rpps')}" if lang == "fr" else f"RPPS: {v('rpps')}")),
        Block.of("space"),
        Block.of("meta", i18n.t("to", lang, profile.name.get(lang))),
        Block.of("meta", i18n.t("signed_at", lang, given["place"], date) if given.get("place") else i18n.t("dated", lang, date)),
        Block.of("space"),
        Block("p", (Run(i18n.t("subject", lang), bold=True), *runs(subject))),
        Block.of("p", i18n.t("salutation", lang)),
        Block("p", runs(i18n.t("intro", lang, name=name, specialty=v("specialty"), department=v("department"),
                              hospital=of_site(v("hospital")) if lang == "fr" else v("hospital"), device=device, maker=maker, whom=whom, basis=basis))),
    ]
    for fid in ("condition", "ci_impossibility", "alternatives", "urgency", "expected_benefit"):
        blocks.append(Block.of("h2", field(fid).label[lang]))
        blocks.append(Block("p", runs(v(fid))))
    blocks += [
        Block.of("p", i18n.t("consent", lang)),
        Block.of("p", i18n.t("available", lang)),
        Block.of("p", i18n.t("closing", lang)),
        Block.of("space"),
        Block("meta", runs(f"Dr {name}")),
        Block.of("meta", i18n.t("signature", lang)),
    ]
    return blocks


_DU = ("CHU", "CHR", "CHRU", "CH", "CHI", "CHS", "CLCC", "Centre", "Groupe", "Groupement", "Pôle", "GHU", "GH")
_DE_LA = ("Clinique", "Polyclinique", "Fondation", "Maison", "Mutualité", "Pitié")
_DES = ("Hospices", "Hôpitaux", "Hopitaux", "Cliniques", "Centres")
_DE_L = ("hôpital", "hopital", "hôtel", "institut", "établissement", "etablissement", "unité", "ap-hp", "aphp",
         "ehpad", "espic")
_ARTICLES = {"le": "du ", "la": "de la ", "les": "des "}


def of_site(name: str) -> str:
    """"de" + a French site name as given, with the article it takes: "du CHU de Lyon", "de l'Hôpital
    Foch", "de la Clinique du Parc", "des Hospices civils de Lyon". Unsure (a proper name, a gap):
    "(établissement : X)", never a wrong "de Hôpital"."""
    text = name.strip()
    if text.startswith("["):  # a visible gap: "de [À COMPLÉTER : établissement de santé]"
        return "de " + text
    if not text:
        return "(établissement : ?)"
    first, _, rest = text.partition(" ")
    lower = first.lower()
    if lower in _ARTICLES and rest:
        return _ARTICLES[lower] + rest
    if lower.startswith(("l'", "l’")):
        return "de l'" + text[2:]
    if first.rstrip(",") in _DU:
        return "du " + text
    if first in _DE_LA:
        return "de la " + text
    if first in _DES:
        return "des " + text
    if lower.startswith(_DE_L):
        return "de l'" + text
    return f"(établissement : {text})"


def plain_text(blocks: list[Block]) -> str:
    return "\n".join("".join(r.text for r in b.runs) for b in blocks if b.style not in ("space", "pagebreak"))


def to_docx(blocks: list[Block], out: Path, title: str) -> Path:
    from docx import Document
    from docx.enum.text import WD_COLOR_INDEX
    from docx.shared import Pt

    doc = Document()
    doc.styles["Normal"].font.name = "Calibri"
    doc.styles["Normal"].font.size = Pt(11)
    doc.core_properties.title = title
    for block in blocks:
        if block.style == "space":
            doc.add_paragraph()
            continue
        if block.style == "h2":
            p = doc.add_paragraph()
            p.add_run("".join(r.text for r in block.runs)).bold = True
            continue
        p = doc.add_paragraph()
        if block.style == "meta":
            p.paragraph_format.space_after = Pt(0)
        for r in block.runs:
            run = p.add_run(r.text)
            run.bold = r.bold or r.mark
            run.italic = r.italic
            if r.mark:
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


def to_pdf(blocks: list[Block], out: Path, title: str) -> Path:
    from assistant.documents.pdf import write_document

    return write_document(blocks, out, title=title)


def file_stem(case: Case, lang: Lang) -> str:
    who = values(case).get("patient_pseudonym") or "patients"
    safe = re.sub(r"[^A-Za-z0-9\-]+", "-", who).strip("-") or "patient"
    return ("lettre-medecin-" if lang == "fr" else "clinician-letter-") + safe
