#!/usr/bin/env bash
# Example 2: a GLOBAL request for a paediatric implant that was never CE-marked, after a series of
# individual derogations. Built only through the `derogation` CLI. Prints the case id last.
# Everything in it is fictional. Run from the repository root: bash examples/global/build.sh
set -euo pipefail
D=${DEROGATION:-derogation}
PY=${PYTHON:-python}
EVIDENCE=${EVIDENCE_DIR:-$(mktemp -d)/evidence}
$PY "$(dirname "$0")/../make_evidence.py" "$EVIDENCE" >/dev/null
export DEROGATION_USER=${DEROGATION_USER:-"p.nguyen (Fixomed)"}

CASE=$($D new --authority ansm --type global --device "OsteoRod Junior")
a() { $D answer "$CASE" "$@" >/dev/null; }

a is_ivd non
a first_in_man non
a previously_ce_marked non
a certification_in_progress oui
# Which route the law offers (derogation only when no other applies): `derogation route CASE`.
a custom_made no
a in_house no
a investigation_possible no
a patients_minors oui

a applicant_name "Fixomed SAS"
a applicant_address "4 allée des Forges, 69007 Lyon, France"
a applicant_contact "Paul Nguyen, responsable affaires réglementaires, p.nguyen@fixomed.example"
a authorised_representative "sans objet (fabricant établi en France)"
a device_references "tiges télescopiques OR-J 3.2, OR-J 3.6 et OR-J 4.0 ; IUD-ID de base 3770000ORJ01AB"
a device_class III
a patient_group "Enfants de 18 mois à 6 ans atteints d'ostéogenèse imparfaite de type III ou IV, présentant des fractures répétées ou des déformations des os longs des membres inférieurs et dont le diamètre médullaire est inférieur à 4 mm."
a patient_count "environ 15 enfants par an en France, soit 30 sur la durée demandée"
a healthcare_facilities "les quatre centres du réseau de référence des maladies osseuses constitutionnelles (Paris, Lyon, Toulouse, Lille), services de chirurgie orthopédique pédiatrique"
a quantities_duration "60 tiges (deux par enfant) ; autorisation demandée pour 24 mois"

a population_condition "L'ostéogenèse imparfaite sévère touche environ 1 naissance sur 20 000 ; chez les jeunes enfants, les fractures répétées des os longs entraînent douleurs, déformations et perte de la marche. L'enclouage télescopique est le traitement de référence, mais aucune tige marquée CE n'existe sous 4 mm de diamètre."
a urgency "Chaque fracture supplémentaire aggrave la déformation et retarde l'acquisition de la marche ; les centres signalent une liste d'attente de 11 enfants dont la chirurgie ne peut être différée de plus de quelques mois sans séquelles définitives."
a expected_benefit "Dans les séries publiées (146 enfants, suivi moyen de 4,2 ans), le taux de révision à 5 ans est de 11 % contre 36 % avec des tiges non télescopiques, avec moins d'interventions sous anesthésie générale et une meilleure autonomie de marche."
a ci_impossibility "Une investigation clinique multicentrique est prévue après la certification mais ne peut pas démarrer avant 2027 ; la rareté de la maladie et le jeune âge des patients rendent impossible un recrutement rapide, et les enfants en attente ne peuvent pas différer leur chirurgie."
a ci_status "investigation OR-J-PED prévue en 2027 (protocole en préparation)"
a ce_alternatives_assessment "Les tiges télescopiques marquées CE (deux fabricants) ne sont disponibles qu'à partir de 4,8 mm de diamètre ; les broches non télescopiques marquées CE imposent une révision à chaque poussée de croissance. Aucun dispositif marqué CE ne couvre les diamètres de 3,2 à 4,0 mm."
a therapeutic_alternatives_assessment "Les bisphosphonates intraveineux sont administrés à tous les enfants concernés mais ne préviennent pas les fractures des os longs déformés ; l'immobilisation plâtrée répétée aggrave l'ostéopénie. Aucune alternative médicale ou chirurgicale ne permet une stabilisation durable chez ces enfants."

a no_ce_reason "Le dispositif, conçu pour une très petite population, n'a jamais été marqué CE : le fabricant a d'abord obtenu des dérogations individuelles, puis a déposé une demande de certification au titre du règlement (UE) 2017/745 le 10 juin 2025 après avoir constitué les données cliniques nécessaires."
a nb_application_date 2025-06-10
a certification_timeline "Revue de la documentation technique par l'organisme notifié au second semestre 2026, audit du système de management de la qualité au premier semestre 2027, décision de certification attendue fin 2027 ; l'investigation clinique OR-J-PED démarrera en parallèle en 2027."
a other_approvals aucune

a standards_applied "ISO 14971:2019, ISO 10993-1:2018, ISO 5832-1 (acier implantable), ASTM F543, ISO 11137-1:2006"
a clinical_data_summary "Séries publiées de 146 enfants implantés dans 5 centres européens, suivi moyen de 4,2 ans : taux de révision de 11 % à 5 ans, aucune complication neurologique, 4 infections superficielles traitées médicalement ; les 23 enfants opérés en France sous dérogation individuelle n'ont présenté aucun incident grave."
a preclinical_summary "Essais de flexion et de torsion selon ASTM F543, essais de coulissement télescopique sur 10 000 cycles, biocompatibilité selon ISO 10993-1, validation de la stérilisation par irradiation gamma."
a performance_maintained "Procédé de fabrication validé et inchangé depuis 2022 ; contrôle dimensionnel à 100 % et revue trimestrielle des réclamations."

a intended_purpose "Stabilisation intramédullaire des os longs des membres inférieurs chez l'enfant atteint d'ostéogenèse imparfaite ; utilisation par des chirurgiens orthopédistes pédiatriques."
a mode_of_action "Tige télescopique en deux parties ancrées dans les épiphyses, qui s'allonge avec la croissance de l'os."
a sterility "stérile, stérilisé par irradiation gamma"
a shelf_life "5 ans"
a storage_conditions "pharmacies à usage intérieur des centres, à température ambiante"

a gspr_statement "Liste de contrôle des exigences générales complétée pour les chapitres I à III de l'annexe I, chaque exigence applicable étant reliée aux rapports d'essais et à la documentation technique."
a gspr_gaps "L'évaluation de la conformité par l'organisme notifié est en cours ; l'évaluation clinique selon l'annexe XIV n'est pas encore validée. Mesures : implantation réservée aux quatre centres de référence, registre de suivi de tous les enfants, revue annuelle des résultats transmise à l'ANSM."
a precautions_signatory "Paul Nguyen, responsable affaires réglementaires"

a prior_derogations_quantitative "23 autorisations individuelles accordées par l'ANSM entre mars 2024 et septembre 2026 ; 23 enfants opérés dans 4 centres ; 46 tiges implantées."
a prior_derogations_qualitative "Aucun incident grave déclaré ; deux révisions programmées liées à la croissance ; les chirurgiens rapportent une pose comparable aux tiges de plus grand diamètre et une reprise de la marche chez 19 des 23 enfants à un an."

a vigilance_contact "Sophie Marchand, correspondante de matériovigilance, vigilance@fixomed.example"
a traceability_measures "Traçabilité par IUD, lot et numéro de série enregistrés par chaque pharmacie à usage intérieur et dans le registre du réseau ; carte d'implant remise aux parents."
a derogation_ground both
a public_health_interest "Aucune tige télescopique de moins de 4,8 mm n'est disponible dans l'Union ; sans accès à ce dispositif, environ 15 enfants par an restent sans traitement adapté dans les quatre centres de référence, avec une liste d'attente de 11 enfants."
a benefit_risk "Risques connus : migration de la tige (4 %), infection (2,7 %), révision liée à la croissance (11 % à 5 ans) ; risque résiduel propre à la dérogation : évaluation clinique selon l'annexe XIV non encore validée. Au vu des fractures répétées évitées, le bénéfice attendu l'emporte sur ces risques."
a labelling_status "dispositif jamais marqué CE ; étiquetage et notice en français"
a supply_chain "livraison par le fabricant aux pharmacies à usage intérieur des quatre centres ; pharmaciens référents désignés et informés dans chaque centre"
a follow_up_plan "registre du réseau de référence pour chaque enfant opéré (radiographies à 6 mois puis chaque année) ; bilan semestriel transmis à l'ANSM"
a exit_plan "si la certification n'est pas obtenue au terme des 24 mois, arrêt des nouvelles implantations, poursuite du suivi et des révisions des enfants déjà opérés avec le stock conservé par les pharmacies, et information de l'ANSM"
a patient_information "Le chirurgien informe les parents du caractère non marqué CE de la tige, des bénéfices et risques et des alternatives, remet une notice d'information adaptée et recueille le consentement écrit des deux titulaires de l'autorité parentale."

$D attach "$CASE" "$EVIDENCE/global/lettres-medecins-osteogenese.pdf" --kind clinician_letter >/dev/null
$D attach "$CASE" "$EVIDENCE/global/donnees-cliniques-osteorod.pdf" --kind clinical_data >/dev/null
$D attach "$CASE" "$EVIDENCE/global/bilan-derogations-individuelles.pdf" --kind prior_derogations_assessment >/dev/null
$D attach "$CASE" "$EVIDENCE/global/declaration-conformite.pdf" --kind declaration_of_conformity >/dev/null
$D attach "$CASE" "$EVIDENCE/global/demande-certification-ON.pdf" --kind notified_body_correspondence >/dev/null
echo "$CASE"
