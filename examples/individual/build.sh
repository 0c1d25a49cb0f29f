#!/usr/bin/env bash
# Example 1: an INDIVIDUAL request for a late CE renewal of a class III implant, for a patient in
# therapeutic dead-end. Built only through the `derogation` CLI. Prints the case id on the last line.
# Everything in it is fictional. Run from the repository root: bash examples/individual/build.sh
set -euo pipefail
D=${DEROGATION:-derogation}
PY=${PYTHON:-python}
EVIDENCE=${EVIDENCE_DIR:-$(mktemp -d)/evidence}
$PY "$(dirname "$0")/../make_evidence.py" "$EVIDENCE" >/dev/null
export DEROGATION_USER=${DEROGATION_USER:-"c.roussel (Valvix Medical)"}

CASE=$($D new --authority ansm --type individual --device "Valvix TMV-28")
a() { $D answer "$CASE" "$@" >/dev/null; }

# Screening questions first: they decide which other questions and documents apply.
a is_ivd no
a first_in_man no
a previously_ce_marked yes
a certification_in_progress yes
# Which route the law offers (derogation only when no other applies): `derogation route CASE`.
a custom_made no
a in_house no
a investigation_possible no
a art97_decision_in_force no
a class_i_declaration no
a certificate_issued_from_2017 yes
a certificate_withdrawn no
a directive_compliance yes
a significant_change no
a mdr_qms_by_2024 yes
a patients_minors no

a applicant_name "Valvix Medical SAS"
a applicant_address "12 rue des Tanneurs, 34000 Montpellier, France"
a applicant_contact "Claire Roussel, directrice qualité et affaires réglementaires, c.roussel@valvix.example, +33 4 00 00 00 00"
a authorised_representative "sans objet (fabricant établi en France)"
a device_references "TMV-28-S et TMV-28-L ; IUD-ID de base 3770000TMV28XY"
a device_class III
a patient_pseudonym P-014
a healthcare_facilities "CHU de Montpellier-Sud, service de cardiologie interventionnelle (Dr A. Martel)"
a quantities_duration "un dispositif (taille S) et un dispositif de secours ; autorisation demandée pour trois mois"

a patient_condition "Homme de 67 ans présentant une insuffisance mitrale sévère symptomatique (NYHA III) avec une fraction d'éjection ventriculaire gauche de 35 %, hospitalisé trois fois depuis janvier pour décompensation cardiaque malgré un traitement médical optimal."
# A thin first answer: the assistant asks a follow-up, and the next answer completes it.
a urgency "Décompensations répétées."
a urgency "Trois hospitalisations en dix mois malgré un traitement médical maximal ; l'équipe estime que, sans réparation valvulaire dans les quatre semaines, le risque de décès ou de nouvelle décompensation grave à un an est élevé."
a expected_benefit "Réduction de l'insuffisance mitrale à un grade 2 ou moins, comme observé chez 88 % des 412 patients traités en Europe, avec amélioration attendue de la classe NYHA et diminution des hospitalisations pour insuffisance cardiaque."

a ci_impossibility "L'investigation clinique VALVIX-EU, seule étude du dispositif, a clos son recrutement en mars 2026 et aucune autre investigation n'est ouverte en France ; le délai d'ouverture d'une nouvelle étude (plus de douze mois) est incompatible avec l'état du patient."
a ci_status "VALVIX-EU (recrutement clos en mars 2026) ; une investigation post-certification est prévue en 2028"
a ce_alternatives_assessment "Les deux systèmes de réparation mitrale percutanée bord à bord marqués CE ont été évalués par l'équipe : l'anatomie du patient (surface valvulaire de 3,1 cm2, feuillet postérieur court) expose à un gradient résiduel excessif et à un échec d'implantation. Aucun autre dispositif marqué CE n'a cette indication."
a therapeutic_alternatives_assessment "Le traitement médical optimal (diurétiques, bêtabloquant, sacubitril-valsartan) a été conduit pendant dix mois sans stabilisation. La chirurgie de remplacement valvulaire a été récusée en réunion de concertation pluridisciplinaire le 4 novembre 2026 en raison d'un risque opératoire prohibitif (EuroSCORE II 12 %)."

a no_ce_reason "Le certificat CE délivré sous la directive 93/42/CEE a expiré le 26 mai 2024. La demande de certification au titre du règlement (UE) 2017/745 n'a été déposée que le 15 septembre 2024, après la date limite du 26 mai 2024, faute de capacité disponible auprès des organismes notifiés contactés ; la prolongation transitoire ne s'applique donc pas."
a previous_certificate_number CM-734215
a previous_certificate_nb "CertiMed Notified Body (fictif), NB 9876"
a previous_certificate_expiry 26/05/2024
a nb_application_date 15/09/2024
a certification_timeline "Accord écrit signé en janvier 2025 ; revue de la documentation technique prévue au premier trimestre 2027, audit au deuxième trimestre 2027 et décision de certification attendue au quatrième trimestre 2027, date à laquelle le recours aux dérogations cessera."
a other_approvals aucune

a standards_applied "ISO 5910:2018, ISO 14971:2019, ISO 10993-1:2018, ISO 11135:2014, ISO 11607-1:2019"
a clinical_data_summary "412 patients implantés en Europe entre 2018 et 2023 sous le certificat MDD, suivis deux ans : succès procédural 94 %, insuffisance mitrale de grade 2 ou moins chez 88 % des patients à un an, mortalité toutes causes 9,8 % à un an, trois incidents graves liés au dispositif (0,7 %)."
a preclinical_summary "Essais sur banc selon ISO 5910 (durabilité 400 millions de cycles), biocompatibilité selon ISO 10993-1, validation de la stérilisation à l'oxyde d'éthylène selon ISO 11135, vieillissement accéléré à trois ans."
a performance_maintained "Aucune modification de conception ni de procédé depuis 2021 ; contrôles libératoires inchangés sur chaque lot et revue annuelle des performances dans le rapport périodique de sécurité (PSUR 2025)."
a vigilance_history "Trois incidents graves déclarés entre 2018 et 2024, analysés sans lien avec un défaut de conception ; aucune mesure corrective de sécurité."

a intended_purpose "Réparation percutanée de la valve mitrale chez l'adulte présentant une insuffisance mitrale sévère symptomatique, non éligible à la chirurgie ; utilisation par des cardiologues interventionnels formés."
a mode_of_action "Implant en alliage nickel-titane introduit par voie transseptale qui rapproche les feuillets mitraux pour réduire la régurgitation."
a sterility "stérile, stérilisé à l'oxyde d'éthylène"
a shelf_life "3 ans ; lots concernés périmés en 2028"
a storage_conditions "pharmacie à usage intérieur du CHU, entre 5 et 25 °C, à l'abri de l'humidité"

a gspr_statement "Conformité démontrée par la liste de contrôle des exigences générales (révision 7) pour les chapitres I à III de l'annexe I, à partir de la documentation technique établie sous la directive et mise à jour selon le règlement."
a gspr_gaps "Seule l'évaluation de la conformité par un organisme notifié au titre du règlement manque ; les exigences de l'annexe I sont couvertes. Mesures : implantation par un opérateur formé par le fabricant, suivi clinique à 1, 3 et 12 mois, déclaration immédiate de tout incident."
a precautions_signatory "Claire Roussel, directrice qualité et affaires réglementaires"

a vigilance_contact "Marc Leroy, correspondant de matériovigilance, vigilance@valvix.example, +33 4 00 00 00 01"
a traceability_measures "Traçabilité par IUD et numéro de série, enregistrée par la pharmacie à usage intérieur à la délivrance et dans le dossier du patient ; carte d'implant remise au patient."
a derogation_ground patients
a supply_interruption_notified yes
a supply_interruption_details "information envoyée à l'ANSM le 12 décembre 2023 avec le formulaire MDCG 2024-16 (mise à jour le 20 mai 2024), et aux quatre centres implanteurs le même jour"
a benefit_risk "Risques connus : embolisation du dispositif (0,5 %), lésion des feuillets (0,7 %), complications au point de ponction (2 %) ; risque résiduel propre à la dérogation : aucun changement du dispositif depuis le certificat MDD, seule la certification au titre du règlement manque. Chez ce patient récusé pour la chirurgie (EuroSCORE II 12 %), le bénéfice attendu l'emporte sur ces risques."
a labelling_status "les unités fournies ne portent pas de marquage CE (étiquetage surchargé par le fabricant) ; étiquetage et notice en français"
a supply_chain "livraison directe par le fabricant à la pharmacie à usage intérieur du CHU de Montpellier-Sud (pharmacien référent Dr L. Benoît, informé de la demande le 18 novembre 2026)"
a follow_up_plan "suivi clinique et échocardiographique à 1, 3 et 12 mois, transmis au fabricant ; rapport à l'ANSM à 3 mois puis à 12 mois, et sans délai en cas d'incident"
a patient_information "Le cardiologue informe le patient du caractère non marqué CE du dispositif, des bénéfices et risques attendus et des alternatives, remet une notice d'information et recueille son consentement libre et éclairé par écrit."

# The documents, most with their kind given, one guessed from its content.
$D attach "$CASE" "$EVIDENCE/individual/lettre-medecin-P-014.pdf" --kind clinician_letter >/dev/null
$D attach "$CASE" "$EVIDENCE/individual/rapport-evaluation-clinique.pdf" --kind clinical_data >/dev/null
$D attach "$CASE" "$EVIDENCE/individual/certificat-ce-MDD.pdf" >/dev/null
$D attach "$CASE" "$EVIDENCE/individual/organisme-notifie-accuse-reception.pdf" --kind notified_body_correspondence >/dev/null
$D attach "$CASE" "$EVIDENCE/individual/declaration-conformite-annexe-I.pdf" --kind declaration_of_conformity >/dev/null
$D attach "$CASE" "$EVIDENCE/individual/notice-utilisation-fr.pdf" --kind ifu_labelling >/dev/null
$D attach "$CASE" "$EVIDENCE/individual/gestion-des-risques-ISO14971.pdf" --kind risk_management >/dev/null
echo "$CASE"
