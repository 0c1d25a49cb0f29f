"""Generate the fictional evidence PDFs the two example cases attach.

Usage: python examples/make_evidence.py OUTPUT_FOLDER
Every person, company, notified body and number in these documents is fictional.
"""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.documents.pdf import text_pdf

INDIVIDUAL = {
    "lettre-medecin-P-014.pdf": [
        "CHU de Montpellier-Sud (fictif) - Service de cardiologie interventionnelle\n\n"
        "Objet : demande d'accès dérogatoire au dispositif Valvix TMV-28 pour le patient P-014\n\n"
        "Je soussigné, Dr A. Martel, cardiologue interventionnel, sollicite l'utilisation du "
        "dispositif Valvix TMV-28 pour le patient désigné sous le pseudonyme P-014, homme de 67 ans "
        "présentant une insuffisance mitrale sévère symptomatique (NYHA III), FEVG 35 %, "
        "hospitalisé à trois reprises depuis janvier pour décompensation cardiaque.\n\n"
        "La chirurgie de remplacement valvulaire a été récusée en réunion de concertation "
        "pluridisciplinaire du 4 novembre 2026 (EuroSCORE II 12 %).",
        "Les dispositifs de réparation percutanée marqués CE disponibles ne conviennent pas à "
        "l'anatomie du patient (surface valvulaire 3,1 cm2, gradient résiduel attendu excessif).\n\n"
        "Le patient ne peut être inclus dans l'investigation clinique VALVIX-EU, dont le "
        "recrutement est clos depuis mars 2026.\n\n"
        "Sans intervention, le pronostic à un an est défavorable. L'intervention est prévue "
        "dans les quatre semaines.\n\nFait à Montpellier, le 12 novembre 2026.\n"
        "Signé : Dr A. Martel, RPPS 10001234567 (fictif)",
    ],
    "rapport-evaluation-clinique.pdf": [
        "Valvix Medical SAS - Clinical evaluation report (summary)\n\n"
        "Device: Valvix TMV-28 transcatheter mitral repair implant, class III.\n"
        "Data: 412 patients implanted in Europe between 2018 and 2023 under the MDD certificate; "
        "follow-up 2 years. Procedural success 94 %; mitral regurgitation reduced to grade 2 or "
        "less in 88 % at 1 year; all-cause mortality 9.8 % at 1 year.",
        "Safety: 3 device-related serious incidents (0.7 %), no field safety corrective action.\n"
        "Post-market surveillance: PSUR 2025 concludes a favourable benefit-risk ratio.\n"
        "Standards: ISO 5910:2018, ISO 14971:2019, ISO 10993-1:2018, ISO 11135:2014.",
    ],
    "certificat-ce-MDD.pdf": [
        "CertiMed Notified Body (fictional), NB 9876\n\n"
        "EC DESIGN-EXAMINATION CERTIFICATE\nDirective 93/42/EEC, Annex II section 4\n\n"
        "Certificate No. CM-734215\nManufacturer: Valvix Medical SAS, 12 rue des Tanneurs, 34000 Montpellier, France\n"
        "Product: Valvix TMV-28 transcatheter mitral repair implant (class III)\n"
        "Date of issue: 27/05/2019\nValid until: 26/05/2024",
    ],
    "organisme-notifie-accuse-reception.pdf": [
        "CertiMed Notified Body (fictional), NB 9876\n\n"
        "Acknowledgement of application under Regulation (EU) 2017/745\n"
        "Application received on 15 September 2024 for the Valvix TMV-28.\n"
        "Written agreement (Annex VII section 4.3) signed on 20 January 2025.\n"
        "Planned: technical documentation review Q1 2027, audit Q2 2027, decision expected Q4 2027.",
    ],
    "declaration-conformite-annexe-I.pdf": [
        "Valvix Medical SAS - Déclaration de conformité aux exigences générales en matière de "
        "sécurité et de performances (annexe I du règlement (UE) 2017/745)\n\n"
        "Le fabricant déclare le dispositif Valvix TMV-28 conforme aux exigences générales de "
        "l'annexe I, chapitres I à III, à l'exception de l'évaluation de la conformité par un "
        "organisme notifié au titre du règlement, objet de la demande de dérogation.\n\n"
        "Fait à Montpellier, le 5 novembre 2026.\nSigné : Claire Roussel, directrice qualité et affaires réglementaires",
    ],
    "attestation-precautions.pdf": [
        "Valvix Medical SAS - Attestation\n\n"
        "Je soussignée, C. Roussel, directrice qualité et affaires réglementaires, atteste que "
        "toutes les précautions nécessaires ont été prises pour protéger la santé et la sécurité "
        "du patient P-014 lors de l'utilisation du dispositif Valvix TMV-28.\n\n"
        "Fait à Montpellier, le 5 novembre 2026.\nSigné : Claire Roussel, directrice qualité et affaires réglementaires",
    ],
    "notice-utilisation-fr.pdf": [
        "Notice d'utilisation - Valvix TMV-28 (extrait)\n\n"
        "Dispositif stérile, stérilisé à l'oxyde d'éthylène. Durée de validité : 3 ans. "
        "Conserver entre 5 et 25 °C, à l'abri de l'humidité.",
    ],
    "gestion-des-risques-ISO14971.pdf": [
        "Valvix Medical SAS - Risk management report (ISO 14971:2019), summary\n\n"
        "Residual risks acceptable; benefit-risk positive for patients with severe mitral "
        "regurgitation ineligible for surgery.",
    ],
}

GLOBAL = {
    "lettres-medecins-osteogenese.pdf": [
        "Centre de référence des maladies osseuses constitutionnelles (fictif)\n\n"
        "Lettre du médecin coordonnateur. Objet : besoin d'accès au dispositif OsteoRod Junior pour les enfants atteints "
        "d'ostéogenèse imparfaite sévère\n\n"
        "Les enfants atteints d'ostéogenèse imparfaite de type III présentent des fractures "
        "répétées des os longs. Les tiges télescopiques marquées CE disponibles n'existent pas "
        "dans les diamètres inférieurs à 4 mm nécessaires avant 3 ans.\n\n"
        "Fait à Paris, le 15 octobre 2026.\nSigné : Pr L. Garnier (fictif)",
    ],
    "donnees-cliniques-osteorod.pdf": [
        "OsteoRod Junior - clinical data summary\n\n"
        "Published series: 146 children implanted in 5 European centres, mean follow-up 4.2 years. "
        "Revision rate 11 % at 5 years, versus 36 % with non-telescopic rods in the same registry.",
    ],
    "bilan-derogations-individuelles.pdf": [
        "Fixomed SAS - Bilan des dérogations individuelles accordées par l'ANSM (2024-2026)\n\n"
        "23 autorisations individuelles accordées ; 23 enfants opérés dans 4 centres. "
        "Aucun incident grave déclaré ; 2 révisions programmées liées à la croissance.",
    ],
    "declaration-conformite.pdf": [
        "Fixomed SAS - Déclaration de conformité aux exigences générales de l'annexe I du "
        "règlement (UE) 2017/745, à l'exception des aspects couverts par la dérogation.\n\n"
        "Fait à Lyon, le 20 octobre 2026.\nSigné : Paul Nguyen, responsable affaires réglementaires",
    ],
    "demande-certification-ON.pdf": [
        "CertiMed Notified Body (fictional), NB 9876\n\n"
        "Application for MDR certification of OsteoRod Junior received on 10 June 2025. "
        "Technical documentation review planned in 2026.",
    ],
}


def main(out: Path) -> None:
    for folder, docs in (("individual", INDIVIDUAL), ("global", GLOBAL)):
        for name, pages in docs.items():
            text_pdf(pages, out / folder / name, title=name)
    print(f"evidence written to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "examples/evidence"))
