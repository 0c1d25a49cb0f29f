"""Facts stated in free text, by rules: what a manufacturer's own description (or a document's
text) says, for every question it answers, offline.

One path for both: `facts_in(text)` reads a description typed in the chat or the text of a
document's page, sentence by sentence, in French or English, with the project's one date grammar
(assistant/text.py). Each fact keeps the words it came from (`quote`), so the user sees where it
came from before anything is recorded; nothing here records anything.

Three kinds of rules:
- labelled or shaped values: a company with its legal form, an address with its postcode, an
  e-mail and a phone, catalogue references, a risk class, a pseudonym, a certificate number, a
  notified body and its four-digit number, dates introduced by what they date, sterility, shelf
  life, storage conditions, standards;
- yes/no screening facts said in prose ("n'est pas un DMDIV", "certificat CE … a expiré");
- narrative answers (the patient's condition, the urgency, the alternatives…): the sentences whose
  cue words say which question they answer, joined.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assistant.text import DATE, date_of

# -- what a fact is --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    question_id: str
    value: str
    quote: str  # the words of the text it came from
    page: int | None = None  # 1-based, for a document


def _clean(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip(" ,;:.-–—")


def _cap(value: str) -> str:
    return value[:1].upper() + value[1:]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[«\"(A-ZÀ-ÝÉ0-9])|\n\s*\n|\n(?=\s*[-•*]\s)")


def sentences(text: str) -> list[str]:
    """The sentences of `text` (an e-mail's or a number's dot does not end one)."""
    text = text.replace("\r", "")
    out = []
    for part in _SENTENCE_END.split(text):
        part = re.sub(r"\s+", " ", part).strip(" -•*")
        if part:
            out.append(part)
    return out


# -- labelled and shaped values --------------------------------------------------------------------
_LEGAL_FORM = r"(?:S\.?A\.?S\.?U?|SARL|S\.?A\.?|SE|GmbH|AG|Ltd\.?|Limited|Inc\.?|LLC|B\.?V\.?|N\.?V\.?|S\.?p\.?A\.?|S\.?r\.?l\.?|AB|Oy|A/S|plc)"
_COMPANY = re.compile(
    rf"(?<![\w-])((?:[A-Z0-9ÀÉ][\w&'’\-]*\s+){{1,5}}{_LEGAL_FORM})(?![\w])"
)
_APPLICANT_LABEL = re.compile(
    r"\b(?:fabricant|manufacturer|demandeur|applicant|raison sociale|legal name|société|company)\s*[:\-]\s*([^\n,;(]{2,80})",
    re.IGNORECASE,
)
_STREET = (r"(?:rue|avenue|av\.|boulevard|bd|allée|chemin|place|impasse|quai|route|cours|parc|zone|ZA|ZI|"
           r"street|st\.|road|rd\.|lane|way|drive)")
_ADDRESS = re.compile(
    rf"(\d{{1,4}}(?:\s?(?:bis|ter))?,?\s+{_STREET}\b[^.;\n]{{2,80}}?\b(?:F-|FR-)?\d{{5}}\s+"
    r"[A-ZÀ-Ý][\wÀ-ÿ'’\-]*(?:[ \-][A-ZÀ-Ýa-zà-ÿ][\wÀ-ÿ'’\-]*){0,3}?"
    r"(?:,\s*(?:France|Belgique|Belgium|Germany|Allemagne|Suisse|Switzerland|Italie|Italy|Espagne|Spain))?)"
    r"(?=[\s,.;)]|$)",
)
_EU_COUNTRIES = (r"France|Belgique|Belgium|Germany|Allemagne|Deutschland|Suisse|Switzerland|Italie|Italy|Italia|Espagne|"
                 r"Spain|España|Ireland|Irlande|Netherlands|Pays-Bas|Luxembourg|Austria|Autriche|Portugal|Denmark|"
                 r"Danemark|Sweden|Suède|Finland|Finlande|Poland|Pologne|Czechia|Greece|Grèce")
_ADDRESS_COUNTRY = re.compile(
    rf"(\d{{1,4}},?\s+[A-ZÀ-Ý][\w'’\- ]{{1,40}}?\s(?i:{_STREET})\b,?\s+[A-ZÀ-Ý][^,;.\n]{{1,40}},\s*"
    rf"(?:{_EU_COUNTRIES}|United Kingdom|UK|USA|United States|Canada|Israel|Japan))",
)
_ADDRESS_LABEL = re.compile(r"\b(?:adresse|address|siège|registered office)\s*[:\-]\s*([^\n;]{5,140})", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_PHONE = re.compile(r"(?:\+\d{2,3}[\s.]?(?:\(0\)\s?)?\d(?:[\s.\-]?\d{2}){4}|\b0\d(?:[\s.\-]?\d{2}){4})\b")
_CONTACT = re.compile(
    r"\b(?:contact|interlocut(?:eur|rice)|correspondant(?:e)?|personne à contacter|contact person|point of contact)"
    r"(?:\s+(?:de l['’]ANSM|for ANSM|pour (?:cette demande|l['’]ANSM)|for this request))?"
    r"\s*(?:[:\-]|est|is|sera|will be)?\s*(?P<who>[^\n;]{3,200})",
    re.IGNORECASE,
)
_REFS = re.compile(
    r"\b(?:références?(?:\s+catalogue)?|references?|réf\.|ref\.|REF|catalogue numbers?|modèles?|models?)\s*(?:[:\-]|concernées?\s*:?)?\s*"
    r"((?=[A-Z0-9.\-/]*\d)(?:[A-Z0-9][A-Z0-9][A-Z0-9.\-/]{1,30})(?:\s*(?:,|et|and|/|&)\s*(?=[A-Z0-9.\-/]*\d)[A-Z0-9][A-Z0-9.\-/]{2,30})*"
    r"(?:\s*[;,]?\s*(?:IUD-ID de base|Basic UDI-DI|UDI-DI)\s*[:\-]?\s*[A-Z0-9]{6,30})?)",
)
_UDI = re.compile(r"\b(?:IUD-ID de base|Basic UDI-DI|UDI-DI)\s*[:\-]?\s*([A-Z0-9]{6,30})\b")
_CLASS = re.compile(r"\bclass(?:e)?\s+(?:de\s+risque\s+)?(IIa|IIb|III|II|I|A|B|C|D)\b(?![\w-])")
_PSEUDONYM = re.compile(
    r"\b(?:pseudonyme|pseudonym|pseudonymisée?|désignée? (?:sous|par)|referred to as|identifié(?:e)? (?:sous|comme))"
    r"\s*(?:le pseudonyme|the pseudonym)?\s*[:\-]?\s*[«\"“]?\s*([A-Z]{1,4}[-_]?\d{2,6}(?:[-_][A-Z0-9]{1,6})?)\b"
    r"|\b(?:patient|patiente)\s+([A-Z]{1,4}-\d{2,6})\b",
    re.IGNORECASE,
)
_FACILITY = re.compile(
    r"((?:CHU|CHRU|CHR|CH|AP-HP|Hospices Civils|Centre hospitalier(?: universitaire| régional)?|Hôpital|Hôpitaux|"
    r"Clinique|Institut|Polyclinique|University Hospital|Hospital|Clinic)\b[^.;\n]{2,140})",
)
_FACILITY_STOP = re.compile(
    r"\s+(?:pour|for|afin|où|where|qui|which|dès|chez|le \d|on \d|dans les|within)\b|[.;]|\s+\((?!service|department|Dr|Pr)"
)
_NUMBER_WORDS = {
    "un": 1, "une": 1, "one": 1, "a": 1, "an": 1, "deux": 2, "two": 2, "trois": 3, "three": 3, "quatre": 4, "four": 4,
    "cinq": 5, "five": 5, "six": 6, "sept": 7, "seven": 7, "huit": 8, "eight": 8, "neuf": 9, "nine": 9, "dix": 10,
    "ten": 10, "douze": 12, "twelve": 12,
}
_COUNT = r"(?:\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
_QUANTITY = re.compile(
    rf"\b({_COUNT}\s+(?:(?:unités?|units?|dispositifs?|devices?|implants?|valves?|kits?|systèmes?|systems?|boîtes?|exemplaires?)"
    r"(?:\s+\([^)]{1,60}\))?(?:\s+(?:de|of)\s+(?:taille|size)\s+\w+)?))",
    re.IGNORECASE,
)
_DURATION = re.compile(
    rf"\b(?:pendant|pour|sur|durée(?:\s+de)?|for|over|duration(?:\s+of)?|period\s+of)\s+({_COUNT}\s+"
    r"(?:mois|months?|semaines?|weeks?|ans?|années?|years?|jours?|days?))\b",
    re.IGNORECASE,
)
_PATIENT_COUNT = re.compile(
    rf"(?<![\d\s])\s*((?:environ|about|around|jusqu['’]à|up to)?\s*(?<!\w)(?:\d{{1,3}}(?:[\s\u00a0\u202f]\d{{3}})+|{_COUNT})\s+patients?(?:\s+(?:par an|per year|a year))?)\b",
    re.IGNORECASE,
)

# -- the certificate block -------------------------------------------------------------------------
CERT_NUMBER = re.compile(
    r"\b(?:certificate|certificat|cert\.)(?:\s+(?:CE|EC|UE|EU))?(?:\s+\w+){0,3}?\s*(?:no\.?|n[°º]|nr\.?|number|numéro|num\.)\s*[:#]?\s*"
    r"([A-Z0-9][A-Z0-9./\-]{1,40}[A-Z0-9])",
    re.IGNORECASE,
)
_EXPIRY = re.compile(
    r"\b(?:valid\s+until|valid\s+till|expiry\s+date|expiration\s+date|date\s+of\s+expiry|expired\s+on|expires\s+on"
    r"|expired|expires|lapsed\s+on|lapsed|valable\s+jusqu[’']au|valide\s+jusqu[’']au|date\s+d[’']expiration"
    r"|(?:a\s+)?expiré\s+le|expire\s+le|échu\s+le|est\s+échu\s+le|fin\s+de\s+validité)"
    rf"\s*[:\-]?\s*(?:le\s+|on\s+)?({DATE.pattern})",
    re.IGNORECASE,
)
_NB_NAME_NUMBER = re.compile(
    r"\b(?:organisme\s+notifié|notified\s+body)\s*(?:[:\-]\s*|\s)"
    r"(?P<name>[^\n,;()]{2,80}?)\s*(?:,|\(|–|-)?\s*"
    r"(?:(?:numéro|n[°º]|no\.?|number)(?:\s+d['’]identification)?|identification\s+number|NB|ON)?\s*[:#]?\s*"
    r"(?P<number>\d{4})\b\)?",
    re.IGNORECASE,
)
_NB_NUMBER_NAME = re.compile(r"^\s*(?P<name>[^\n,]{2,80}?),?\s+(?:NB|ON)\s*(?P<number>\d{4})\b", re.MULTILINE)
_APPLICATION = re.compile(
    r"\b(?:demande|dossier|application|applied|lodged|submitted|déposée?|received|reçue?)\b", re.IGNORECASE
)
_AGREEMENT = re.compile(r"\b(?:accord\s+écrit|written\s+agreement|contrat\s+(?:signé|de\s+certification))\b", re.IGNORECASE)
_NB_CONTEXT = re.compile(r"\b(?:organisme|notified|body|certification|règlement|regulation|2017/74[56]|RDM|MDR|"
                         r"accord|agreement)\b",
                         re.IGNORECASE)

# -- the device's characteristics ------------------------------------------------------------------
_STERILE = re.compile(r"(?<![\w])((?:non[\s\-]?)?st[ée]ril(?:e|isé|isée|ised|ized)?\b)", re.IGNORECASE)
_STERILE_METHOD = re.compile(
    r"oxyde\s+d[’']éthylène|ethylene\s+oxide|\bEO\b|\bETO\b|gamma|irradiat|rayonnement|vapeur|steam|autoclav|e-beam"
    r"|faisceau\s+d[’']électrons|electron\s+beam",
    re.IGNORECASE,
)
_SHELF = re.compile(
    r"\b(?:shelf[\s\-]life|durée\s+de\s+validité|durée\s+de\s+conservation|durée\s+de\s+vie|use\s+by|péremption)"
    r"\s*(?:de\s+|of\s+|is\s+|est\s+de\s+)?[:\-]?\s*([^\n.;]{1,80})",
    re.IGNORECASE,
)
_STORAGE = re.compile(
    r"\b(?:conditions?\s+de\s+(?:stockage|conservation)|storage\s+conditions?|to\s+be\s+stored|à\s+conserver"
    r"|conserver|stocker|store[ds]?)\b[^\n.]{3,160}",
    re.IGNORECASE,
)
_STORAGE_LABEL = re.compile(
    r"^(?:conditions?\s+de\s+(?:stockage|conservation)|storage\s+conditions?)\s*(?:[:\-]\s*|\s+)", re.IGNORECASE
)
_STORAGE_HINT = re.compile(r"°|\bdegr|temp[ée]rat|humid|lumière|light|\bsec\b|dry|ambiante|room", re.IGNORECASE)
_STANDARD = re.compile(r"\b(?:NF\s+)?(?:EN\s+)?(?:ISO|IEC|CEI)(?:/TS)?\s+\d{3,5}(?:-\d+)*(?::\d{4})?")


def _first_date(text: str) -> str | None:
    for m in DATE.finditer(text):
        day = date_of(m)
        if day is not None:
            return day.isoformat()
    return None


# -- yes/no screening said in prose (French and English) ---------------------------------------------
_YES_NO: dict[str, tuple[tuple[str, str], ...]] = {
    # question: ((answer, pattern), ...), the first that matches wins
    "is_ivd": (
        ("no", r"\b(?:n['’]est pas|not an?|ni)\s+(?:un\s+)?(?:dispositif (?:médical )?de diagnostic in vitro|DMDIV|DIV|IVD|in vitro diagnostic)"),
        ("yes", r"\b(?:dispositif (?:médical )?de diagnostic in vitro|DMDIV|in vitro diagnostic (?:medical )?device|IVD)\b"),
    ),
    "first_in_man": (
        ("yes", r"\b(?:première utilisation chez l['’]homme|first[- ]in[- ](?:man|human)|jamais (?:été )?(?:utilisé|implanté) chez l['’]homme|never (?:been )?used in humans)"),
        ("no", r"\b(?:\d[\d\s]*(?:patients?|children|enfants)\s+(?:ont été\s+|were\s+)?(?:implantés|traités|treated|implanted)|(?:implanted|treated)\s+in\s+\d+|déjà (?:été )?(?:utilisé|implanté)|already used in|not (?:a )?first[- ]in[- ]man|pas d['’]une première utilisation)"),
    ),
    "previously_ce_marked": (
        ("no", r"\b(?:jamais (?:été )?marqué CE|n['’]a jamais porté le marquage CE|never (?:been )?CE[- ]marked|never carried (?:the )?CE)"),
        ("yes", r"\b(?:certificat (?:CE|de conformité CE|d['’]examen CE)[^.]{0,160}(?:expiré|échu|suspendu|retiré|non renouvelé|expir)|(?:CE|EC) certificate[^.]{0,160}(?:expired|lapsed|suspended|not renewed)|(?:était|a été|anciennement|précédemment) marqué CE|previously CE[- ]marked|was CE[- ]marked|sous (?:la )?directive 93/42|under (?:the )?Directive 93/42|MDD certificate)"),
    ),
    "certification_in_progress": (
        ("no", r"\b(?:aucune demande de certification|no (?:application|certification) (?:is )?(?:in progress|pending|lodged))"),
        ("yes", r"\b(?:demande de certification[^.]{0,60}(?:en cours|déposée)|certification (?:est )?en cours|en cours de certification|(?:application|certification)[^.]{0,60}(?:in progress|pending|lodged|submitted)|accord écrit[^.]{0,40}(?:signé|conclu)|written agreement[^.]{0,40}signed)"),
    ),
    "custom_made": (
        ("no", r"\b(?:n['’]est (?:ni )?pas (?:un dispositif )?(?:fabriqué )?sur mesure|ni (?:fabriqué )?sur mesure|not (?:a )?custom[- ]made|neither custom[- ]made)"),
        ("yes", r"\b(?:dispositif sur mesure|fabriqué sur mesure|is (?:a )?custom[- ]made)"),
    ),
    "in_house": (
        ("no", r"\b(?:ni (?:fabriqué|produit) (?:en interne|au sein de l['’]établissement)|n['’]est pas (?:fabriqué|produit) (?:en interne|par l['’]établissement)|not (?:an )?in[- ]house|nor (?:made |manufactured )?in[- ]house|industrial(?:ly)? (?:scale|manufactur))"),
        ("yes", r"\b(?:fabriqué (?:et utilisé )?(?:en interne|au sein de l['’]établissement)|in[- ]house device)"),
    ),
    "investigation_possible": (
        ("no", r"\b(?:aucune investigation clinique (?:n['’]est )?(?:ouverte|en cours|possible)|(?:ne peut|ne peuvent) pas être inclus|recrutement (?:est )?(?:clos|terminé)|a clos son recrutement|closed (?:its )?recruitment|no clinical investigation (?:is )?(?:open|possible|recruiting)|cannot be (?:included|enrolled)|recruitment (?:has )?closed)"),
        ("yes", r"\b(?:peut être inclus dans (?:une|l['’]) investigation|can be (?:included|enrolled) in)"),
    ),
    "art97_decision_in_force": (
        ("no", r"\b(?:aucune décision (?:[^.]{0,40})?(?:art(?:icle|\.)\s*97|art(?:icle|\.)\s*59)|pas de décision (?:au titre de l['’])?art(?:icle|\.)\s*97|no (?:Art(?:icle|\.)\s*97|Art(?:icle|\.)\s*59) decision|no decision under Art(?:icle|\.)\s*97)"),
        ("yes", r"\b(?:décision (?:au titre de l['’])?art(?:icle|\.)\s*97 (?:en vigueur|a été prise)|Art(?:icle|\.)\s*97 decision (?:is )?in force)"),
    ),
    "class_i_declaration": (
        ("no", r"\b(?:certificat (?:CE|d['’]examen CE|de conformité)|(?:CE|EC)[^.]{0,30}certificate|classe\s+(?:IIa|IIb|III)\b|class\s+(?:IIa|IIb|III)\b)"),
    ),
    "certificate_issued_from_2017": (
        ("yes", r"\b(?:délivré|émis|issued|renouvelé|renewed)\s+(?:le|on|en|in)?\s*[^.]{0,20}\b(?:2017|2018|2019|2020|2021)\b"),
        ("no", r"\b(?:délivré|émis|issued)\s+(?:le|on|en|in)?\s*[^.]{0,20}\b(?:200\d|201[0-6])\b"),
    ),
    "certificate_withdrawn": (
        ("no", r"\b(?:(?:n['’]a|ni) (?:jamais )?(?:été )?(?:ni )?(?:retiré|suspendu)|non retiré|sans retrait|not (?:been )?(?:withdrawn|suspended)|never withdrawn|expired? (?:normally|at term)|arrivé à (?:son )?terme)"),
        ("yes", r"\b(?:a été retiré|was withdrawn|certificat retiré|certificate withdrawn)"),
    ),
    "agreement_before_expiry": (
        ("no", r"\b(?:(?:aucun|sans|pas d['’])\s+accord écrit[^.]{0,80}avant (?:l['’]expiration|cette date|l['’]échéance)|no written agreement[^.]{0,60}before (?:the )?(?:expiry|expiration|it expired))"),
        ("yes", r"\b(?:accord écrit[^.]{0,40}signé avant (?:l['’]expiration|l['’]échéance)|written agreement[^.]{0,40}signed before (?:the )?(?:expiry|expiration))"),
    ),
    "prior_decision_before_2023_03_20": (
        ("no", r"\b(?:aucune décision (?:dérogatoire|de dérogation|[^.]{0,30}art(?:icle|\.)\s*(?:59|97))|no (?:derogation|Art(?:icle|\.)\s*(?:59|97)) decision|no derogation was granted)"),
    ),
    "directive_compliance": (
        ("yes", r"\b(?:(?:reste|demeure|continue d['’]être|toujours) conforme à la directive|conforme à la directive 93/42|continues? to comply with (?:the )?Directive|still complies with (?:the )?Directive)"),
        ("no", r"\b(?:n['’]est plus conforme à la directive|no longer complies with (?:the )?Directive)"),
    ),
    "significant_change": (
        ("no", r"\b(?:aucune modification (?:significative|substantielle|de conception)|sans modification (?:significative|substantielle|de conception)|no (?:significant|substantial|design) change|unchanged (?:design|since))"),
        ("yes", r"\b(?:modification (?:significative|substantielle) (?:de la conception|du dispositif) a été|significant change (?:to|in) the design (?:was|has been))"),
    ),
    "mdr_qms_by_2024": (
        ("yes", r"\b(?:système de (?:management|gestion) de la qualité[^.]{0,120}(?:conforme|mis en place|en place|établi)[^.]{0,60}(?:RDM|règlement|art(?:icle|\.)\s*10)|quality management system[^.]{0,120}(?:compliant|in place|established)[^.]{0,60}(?:MDR|Regulation|Art(?:icle|\.)\s*10)|(?:SMQ|QMS)[^.]{0,60}(?:RDM|MDR))"),
    ),
}
_YES_NO_RE = {q: tuple((a, re.compile(p, re.IGNORECASE)) for a, p in rules) for q, rules in _YES_NO.items()}

# -- narrative answers: the sentences whose cue words say which question they answer ---------------
_NARRATIVE: dict[str, str] = {
    "ci_impossibility": r"\b(?:investigation clinique|essai clinique|clinical (?:investigation|trial)|étude clinique|l['’]étude [A-Z][\w-]+)[^.]{0,160}(?:clos|fermé|terminé|aucune|impossible|incompatible|closed|no other|not (?:open|possible))|\b(?:aucune|no) (?:investigation|clinical investigation|étude)[^.]{0,60}(?:ouverte|open)",
    "ce_alternatives_assessment": r"\b(?:(?:dispositifs|stimulateurs|systèmes|implants|valves|alternatives|devices|systems)(?:\s+[\w-]+){0,3}\s+(?:marqués CE|marquées CE|disposant du marquage CE)|CE[- ]marked\s+(?:[\w-]+\s+){0,2}(?:devices?|systems?|rods?|implants?|alternatives?|products?|valves?|stents?|pacemakers?))",
    "patient_group": r"\b(?:(?:the )?request (?:covers|concerns)|la demande (?:concerne|vise)|(?:children|enfants|adults|adultes|patients?) (?:aged|âgés|de \d+ à \d+ ans|from \d+ to \d+)|eligib|éligib|critères d['’]inclusion|inclusion criteria)",
    "patient_condition": r"\b(?:patient(?:e)?\s+(?:de|âgée?|présente|souffre|atteint)|(?:homme|femme|enfant)\s+de\s+\d+\s+ans|\d+-year-old|patient (?:has|suffers|presents)|insuffisance|NYHA|diagnostiqu|diagnosed|maladie|pathologie|fraction d['’]éjection)",
    "urgency": r"\b(?:urgen|without treatment|sans traitement|delay makes|each month of delay|chaque mois de retard|sans (?:stimulation|implantation|chirurgie|réparation|intervention|traitement)\b|without (?:treatment|the device|implantation|surgery)\b|dans les (?:\d+|huit|dix|quinze|trente) (?:jours|semaines)|sans (?:intervention|traitement|réparation)[^.]{0,40}(?:risque|décès)|dans les \d+\s+(?:jours|semaines)|within \d+\s+(?:days|weeks)|risque (?:vital|de décès)|risk of death|life-threatening|pronostic vital|ne peut (?:pas )?attendre|cannot wait)",
    "population_condition": r"\b(?:patients? (?:présentent|souffrent|atteints)|(?:these|ces) (?:patients|children|enfants) (?:have|suffer|présentent)|maladie|disease|syndrome|pathologie)",
    "expected_benefit": r"\b(?:bénéfice attendu|bénéfices attendus|expected benefit|on attend|attendue?s?\s+(?:une|la)|réduction (?:de|du)|amélioration (?:de|du)|improv(?:e|ement) (?:in|of)|reduc(?:e|tion) (?:in|of))",
    "therapeutic_alternatives_assessment": r"\b(?:traitement médical|chirurgi|alternative thérapeutique|alternatives thérapeutiques|medical (?:therapy|treatment)|surgery|surgical|RCP|réunion de concertation|heart team)",
    "no_ce_reason": r"\b(?:n['’]a (?:été déposée|pu être)|faute de|en raison (?:du|de la|des) (?:retard|délai|capacité)|because (?:of )?(?:the )?(?:delay|lack|notified body capacity)|capacité (?:des|disponible auprès des) organismes notifiés|(?:lack of|limited) notified[- ]body capacity)",
    "certification_timeline": r"\b(?:décision de certification|certification decision|audit (?:prévu|planned|au|in)|calendrier|timeline|attendue? (?:au|en) (?:premier|deuxième|troisième|quatrième) trimestre|expected (?:in|by) Q[1-4])",
    "clinical_data_summary": r"\b(?:\d+\s+(?:patients|children|enfants|adults|adultes)\s+(?:were\s+|ont été\s+)?(?:implantés|traités|inclus|implanted|treated|enrolled)|succès procédural|procedural success|mortalité|mortality|suivi (?:de )?\d|follow-up of \d|données cliniques|clinical data)",
    "preclinical_summary": r"\b(?:essais? (?:sur banc|précliniques?)|bench test|préclinique|preclinical|biocompatibilit|vieillissement accéléré|accelerated ageing)",
    "performance_maintained": r"\b(?:contrôles? libératoires?|release (?:tests?|controls?)|performances? (?:sont |est )?maintenues?|performance (?:is )?maintained|PSUR|revue annuelle)",
    "vigilance_history": r"\b(?:incidents? graves? (?:déclarés?|signalés?)|serious incidents? (?:reported|declared)|matériovigilance|vigilance (?:history|data)|mesures? correctives? de sécurité|field safety corrective)",
    "intended_purpose": r"\b(?:destinée?s? (?:à|au|aux)|intended (?:for|to|purpose)|destination (?:prévue|d['’]usage)|indiqué (?:pour|dans|chez)|indicated for)",
    "mode_of_action": r"\b(?:mode d['’]action|contains an? |contient une? |consists of|se compose|délivre|libère|agit (?:en|par)|delivers|releases|acts by|principe de fonctionnement|mode of action|works by|fonctionne en|rapproche|introduit par voie|inserted (?:via|through))",
    "gspr_statement": r"\b(?:exigences générales (?:en matière )?de sécurité et de performances?|general safety and performance requirements|GSPR|annexe I (?:du|of)|Annex I (?:of|to))",
    "gspr_gaps": r"\b(?:seule?\b[^.]{0,80}\bmanque|only\b[^.]{0,80}\b(?:is|are) missing|exigences? non (?:couvertes|satisfaites)|requirements? not (?:met|covered))",
    "traceability_measures": r"\b(?:traçabilité|traceability|carte d['’]implant|implant card|numéro de (?:série|lot)|serial number)",
    "patient_information": r"\b(?:consentement|consent|notice d['’]information|information du patient|patient information|informe le patient|informed of)",
}
_NARRATIVE_RE = {q: re.compile(p, re.IGNORECASE) for q, p in _NARRATIVE.items()}

# What a document of a kind may state in prose (a document's narrative facts are limited to these,
# so a letter's mention of surgery is not proposed as the manufacturer's assessment of alternatives).
DOCUMENT_NARRATIVE: dict[str, tuple[str, ...]] = {
    "clinical_data": ("clinical_data_summary", "preclinical_summary"),
    "preclinical_reports": ("preclinical_summary", "clinical_data_summary"),  # reports often summarise both
    "ifu_labelling": ("intended_purpose", "mode_of_action"),
    "declaration_of_conformity": ("gspr_statement", "gspr_gaps"),
    "certification_plan": ("certification_timeline",),
    "clinician_letter": ("patient_condition", "urgency"),
}


# -- the rules, one function per block -------------------------------------------------------------
def _applicant(text: str) -> Iterable[Fact]:
    m = _APPLICANT_LABEL.search(text)
    company = _COMPANY.search(text)
    if company:
        name = _clean(company.group(1))
        name = re.sub(r"^(?:La|Le|The|Les|Nous|We|Our|Notre)\s+(?:société\s+|company\s+)?", "", name)
        name = re.sub(r"^(?:société|company|fabricant|manufacturer)\s+", "", name, flags=re.IGNORECASE)
        yield Fact("applicant_name", name, company.group(0))
    elif m:
        yield Fact("applicant_name", _clean(m.group(1)), m.group(0))
    m = _ADDRESS.search(text) or _ADDRESS_COUNTRY.search(text) or _ADDRESS_LABEL.search(text)
    if m:
        yield Fact("applicant_address", _clean(m.group(1)), m.group(0))
    for sentence in sentences(text):
        email, phone = _EMAIL.search(sentence), _PHONE.search(sentence)
        if not (email or phone):
            continue
        c = _CONTACT.search(sentence)
        who = c.group("who") if c else sentence  # else the words around the address
        who = re.sub(r"^(?:(?:de l['’]ANSM|for ANSM|pour (?:cette demande|l['’]ANSM)|for this request)\s*)*"
                     r"(?:est|is|sera|will be|:)?\s*", "", who.strip())
        who = re.sub(r"\s+(?:et|and)\s+(?=\+?\d)", ", ", who)
        if len(who) > 220:
            who = who[:220].rsplit(",", 1)[0]
        yield Fact("applicant_contact", _clean(who), sentence)
        break


_SIGNATORY = re.compile(
    r"\b(?:attestation (?:de précautions|des précautions)[^.]{0,40}(?:est |sera )?signée? par|precautions certificate[^.]{0,40}"
    r"(?:is |will be )?signed by|signataire de l['’]attestation\s*(?:est|:)?)\s*(?P<who>[^.;\n]{3,140})",
    re.IGNORECASE,
)
_UNDERSIGNED = re.compile(
    r"\b(?:je soussignée?|I,?\s+the undersigned)\s*,?\s*(?P<who>[^,\n]{3,60}(?:,\s*[^,\n]{3,80})?),\s*"
    r"(?:atteste|certifie|certify|attest|declare|déclare)",
    re.IGNORECASE,
)
_VIGILANCE = re.compile(
    r"\b(?:correspondant(?:e)? (?:local(?:e)? )?de (?:matériovigilance|réactovigilance|vigilance)|vigilance contact(?: person)?)"
    r"\s*(?:est|is|:|-)?\s*(?P<who>[^\n;]{3,200}?)(?=\.\s+[A-ZÀ-Ý]|\.?\s*$|;)",
    re.IGNORECASE,
)
_OTHER_APPROVALS = re.compile(
    r"\b(?:(?:ne (?:dispose|bénéficie) d['’])?aucune autre (?:autorisation|approbation|homologation)|"
    r"no other (?:approval|authori[sz]ation|clearance)s?)\b",
    re.IGNORECASE,
)
_CI_STATUS = re.compile(
    r"((?:l['’]étude|l['’]investigation(?: clinique)?|the(?:\s+[\w-]+){0,2}\s+(?:study|investigation))(?:\s+[A-Z][\w-]+)?\s+"
    r"(?:a clos son recrutement|a terminé son recrutement|has closed (?:its )?recruitment|closed (?:its )?recruitment)"
    r"(?:\s+(?:en|in)\s+\d{4})?"
    r"(?:\s+(?:en|in)\s+[\w]+\s+\d{4})?)",
    re.IGNORECASE,
)
_EU_ADDRESS = re.compile(rf"\b(?:{_EU_COUNTRIES})\s*$")


def _french(text: str) -> bool:
    words = re.findall(r"\b(?:le|la|les|des|du|est|et|pour|une|nous|dans)\b", text.lower())
    return len(words) * 4 > len(re.findall(r"\b(?:the|and|is|of|for|we|our|in|to)\b", text.lower())) * 4 + 2


def _others(text: str) -> Iterable[Fact]:
    m = _SIGNATORY.search(text)
    if m:
        yield Fact("precautions_signatory", _clean(m.group("who")), m.group(0))
    m = _VIGILANCE.search(text)
    if m:
        yield Fact("vigilance_contact", _clean(re.sub(r"\s+(?:et|and)\s+(?=\+?\d)", ", ", m.group("who"))), m.group(0))
    m = _OTHER_APPROVALS.search(text)
    if m:
        yield Fact("other_approvals", "aucune" if _french(text) else "none", m.group(0))
    m = _CI_STATUS.search(text)
    if m:
        yield Fact("ci_status", _cap(_clean(m.group(1))), m.group(0))
    address = _ADDRESS.search(text) or _ADDRESS_COUNTRY.search(text)
    if address and (_EU_ADDRESS.search(address.group(1)) or re.search(r"\b\d{5}\s", address.group(1))):
        value = ("sans objet (fabricant établi dans l'Union)" if _french(text)
                 else "not applicable (manufacturer established in the EU)")
        yield Fact("authorised_representative", value, address.group(0))


def _device(text: str) -> Iterable[Fact]:
    m = _REFS.search(text)
    if m and any(ch.isdigit() for ch in m.group(1)):
        value = _clean(m.group(1))
        udi = _UDI.search(text)
        if udi and udi.group(1) not in value:
            value = f"{value} ; {udi.group(0)}"
        yield Fact("device_references", value, m.group(0))
    m = _CLASS.search(text)
    if m:
        yield Fact("device_class", m.group(1), m.group(0))
        if m.group(1) in ("I", "IIa", "IIb", "III", "II"):
            yield Fact("is_ivd", "no", m.group(0))


def _patient(text: str) -> Iterable[Fact]:
    m = _PSEUDONYM.search(text)
    if m:
        yield Fact("patient_pseudonym", (m.group(1) or m.group(2)).upper(), m.group(0))
    m = _FACILITY.search(text)
    if m:
        value = m.group(1)
        stop = _FACILITY_STOP.search(value)
        if stop:
            value = value[: stop.start()]
        # "(service de cardiologie, Dr A. Martel)": keep a closing parenthesis that was opened
        if value.count("(") > value.count(")"):
            close = text.find(")", m.start() + len(value))
            if 0 < close - (m.start() + len(value)) < 80:
                value = text[m.start(): close + 1]
        value = re.sub(r"\s+", " ", value).strip(" ,;:.")
        yield Fact("healthcare_facilities", value, m.group(0))
    quantity, duration = _QUANTITY.search(text), _DURATION.search(text)
    if quantity or duration:
        parts = [_clean(x.group(1)) for x in (quantity, duration) if x]
        quote = " … ".join(x.group(0) for x in (quantity, duration) if x)
        if quantity and duration:
            joined = " ; ".join(parts)
            yield Fact("quantities_duration", _cap(joined), quote)
        elif quantity:
            yield Fact("quantities_duration", _cap(parts[0]), quote)
    m = _PATIENT_COUNT.search(text)
    if m:
        yield Fact("patient_count", _clean(m.group(1)), m.group(0))


def nb_facts(text: str) -> Iterable[Fact]:
    """The notified body and its four-digit number, as the document writes them ("GMED n° 0459",
    "TÜV SÜD Product Service GmbH, numéro d'identification 0123"), without the label before them."""
    m = _NB_NAME_NUMBER.search(text)
    if m and _clean(m.group("name")):
        value = _clean(text[m.start("name"): m.end("number")])
        yield Fact("previous_certificate_nb", value + (")" if value.count("(") > value.count(")") else ""), m.group(0))
        return
    m = _NB_NUMBER_NAME.search(text)
    if m and re.search(r"notified|notifié|certif|body|organisme", m.group("name"), re.IGNORECASE):
        yield Fact("previous_certificate_nb", _clean(m.group(0)), m.group(0))


def certificate_facts(text: str) -> Iterable[Fact]:
    for m in CERT_NUMBER.finditer(text):
        if any(ch.isdigit() for ch in m.group(1)) and not DATE.fullmatch(m.group(1)):
            yield Fact("previous_certificate_number", m.group(1), m.group(0))
            break
    for m in _EXPIRY.finditer(text):
        start = m.start(1) - m.start()
        day = _first_date(m.group(0)[start:])
        if day:
            yield Fact("previous_certificate_expiry", day, m.group(0))
            break
    yield from nb_facts(text)
    for sentence in sentences(text):
        day = _first_date(sentence)
        if day is None or not _NB_CONTEXT.search(sentence):
            continue
        # "application … received on 15 September 2024. Written agreement … signed on 20 January 2025":
        # each date belongs to the words just before it
        for dm in DATE.finditer(sentence):
            found = date_of(dm)
            if found is None:
                continue
            before = sentence[max(0, dm.start() - 120): dm.start()]
            last_agreement = max((x.end() for x in _AGREEMENT.finditer(before)), default=-1)
            last_application = max((x.end() for x in _APPLICATION.finditer(before)), default=-1)
            if last_agreement > last_application:
                yield Fact("nb_written_agreement_date", found.isoformat(), sentence)
            elif last_application >= 0 and not _EXPIRY.search(before[-40:] + dm.group(0)):
                yield Fact("nb_application_date", found.isoformat(), sentence)


def device_characteristics(text: str) -> Iterable[Fact]:
    m = _STERILE.search(text)
    if m:
        end_m = re.compile(r"[.;\n]").search(text, m.start())
        end = end_m.start() if end_m else len(text)
        value = text[m.start(): end].strip(" ,:")
        if not _STERILE_METHOD.search(value) and end < len(text):
            nxt = re.compile(r"[.;\n]").search(text, end + 1)
            rest = text[end + 1: nxt.start() if nxt else len(text)].strip(" ,:")
            if _STERILE_METHOD.search(rest):
                value = f"{value}; {rest}"
        yield Fact("sterility", _clean(value)[:200], text[m.start(): end])
    m = _SHELF.search(text)
    if m and any(ch.isdigit() for ch in m.group(1)):
        yield Fact("shelf_life", _clean(m.group(1)), m.group(0))
    for m in _STORAGE.finditer(text):
        if _STORAGE_HINT.search(m.group(0)):
            value = _STORAGE_LABEL.sub("", _clean(m.group(0)))
            yield Fact("storage_conditions", _cap(value), m.group(0))
            break
    found = []
    for m in _STANDARD.finditer(text):
        std = re.sub(r"\s+", " ", m.group(0))
        if std not in found:
            found.append(std)
    if found:
        yield Fact("standards_applied", ", ".join(found), ", ".join(found))


def screening_facts(text: str) -> Iterable[Fact]:
    for sentence in sentences(text):
        for qid, rules in _YES_NO_RE.items():
            for answer, rule in rules:
                if rule.search(sentence):
                    yield Fact(qid, answer, sentence)
                    break


def narrative_facts(text: str, only: Iterable[str] | None = None) -> Iterable[Fact]:
    """Sentences whose cue words name the question they answer, joined per question.
    A sentence answers one question: the first whose cue it holds, in the order above."""
    allowed = set(only) if only is not None else set(_NARRATIVE_RE)
    chosen: dict[str, list[str]] = {}
    for sentence in sentences(text):
        if len(sentence.split()) < 6:
            continue
        for qid, cue in _NARRATIVE_RE.items():
            if qid in allowed and cue.search(sentence):
                chosen.setdefault(qid, []).append(sentence)
                break
    if "population_condition" in allowed and "population_condition" not in chosen and "patient_group" in chosen:
        chosen["population_condition"] = chosen["patient_group"]  # who is eligible says which disease they have
    for qid, said in chosen.items():
        value = " ".join(s if s.endswith((".", "!", "?")) else s + "." for s in said)
        yield Fact(qid, value, value)


# -- the one entry point ---------------------------------------------------------------------------
RULES: tuple[Callable[[str], Iterable[Fact]], ...] = (
    _applicant, _device, _patient, certificate_facts, device_characteristics, _others, screening_facts,
)


def facts_in(text: str, page: int | None = None, *, narrative: Iterable[str] | None = None,
             rules: Iterable[Callable[[str], Iterable[Fact]]] = RULES) -> list[Fact]:
    """Every fact `text` states, the first of each question (a screening answer said twice keeps
    its first wording). `narrative`: the narrative questions to look for (None: all of them)."""
    out: dict[str, Fact] = {}
    for rule in rules:
        for fact in rule(text):
            if fact.value and fact.question_id not in out:
                out[fact.question_id] = Fact(fact.question_id, fact.value, _clean(fact.quote)[:300], page)
    for fact in narrative_facts(text, narrative):
        if fact.question_id not in out:
            out[fact.question_id] = Fact(fact.question_id, fact.value, fact.quote[:300], page)
    return list(out.values())


CERTIFICATE_KINDS = frozenset({"previous_ce_certificate", "notified_body_correspondence"})
NOT_DEVICE_FACTS = frozenset({"previous_ce_certificate", "notified_body_correspondence", "clinician_letter",
                              "prior_derogations_assessment"})


def _signatory(text: str) -> Iterable[Fact]:
    m = _UNDERSIGNED.search(text)
    if m:
        yield Fact("precautions_signatory", _clean(m.group("who")), m.group(0))


def document_facts(text: str, page: int, kind: str, *, narrative: bool = True) -> list[Fact]:
    """What a page of a document of evidence kind `kind` states: the certificate block from a
    certificate or a notified body's letter, the device's characteristics from the device's own
    documents, and the narrative answers that kind of document holds (DOCUMENT_NARRATIVE)."""
    rules: list[Callable[[str], Iterable[Fact]]] = []
    if kind in CERTIFICATE_KINDS:
        rules.append(certificate_facts)
    if kind not in NOT_DEVICE_FACTS:
        rules += [_device_references, device_characteristics]
    if kind == "precautions_certificate":
        rules.append(_signatory)
    return facts_in(text, page, narrative=DOCUMENT_NARRATIVE.get(kind, ()) if narrative else (), rules=rules)


def _device_references(text: str) -> Iterable[Fact]:
    return (f for f in _device(text) if f.question_id == "device_references")
