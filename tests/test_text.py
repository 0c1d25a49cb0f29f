"""The text rules every part shares (assistant/text.py): one date grammar, read the same everywhere.

Each part used to carry its own month table and date pattern, so a date one part accepted could
slip past another. These tests write one date in each accepted form and check that every part that
reads dates (an answer, the patient-data screen, the redactor, a certificate, the grounding check)
understands it as the same day.
"""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.case.privacy import Redactor, patient_data_problems
from assistant.drafting.grounding import Sources
from assistant.interview.documents import extract
from assistant.text import MONTHS, find_dates, format_date, month_number, parse_date, word_count

DAY = dt.date(1958, 3, 12)
FORMS = [
    "1958-03-12", "12/03/1958", "12.03.1958", "12-03-1958", "12 mars 1958", "12 Mars 1958", "12 mar. 1958",
    "12 march 1958", "March 12, 1958", "Mar. 12 1958",
]
SEPT = dt.date(1958, 9, 12)
SEPT_FORMS = ["12 sept. 1958", "12 sept 1958", "12 sep 1958", "12 septembre 1958", "Sept. 12, 1958",
              "12 September 1958"]
JAN = dt.date(1958, 1, 12)
JAN_FORMS = ["12 janv 1958", "12 janv. 1958", "12 jan 1958", "12 Janvier 1958", "Jan 12, 1958"]
ALL = [(f, DAY) for f in FORMS] + [(f, SEPT) for f in SEPT_FORMS] + [(f, JAN) for f in JAN_FORMS]


@pytest.mark.parametrize(("written", "day"), ALL)
def test_a_date_typed_as_an_answer_is_found_the_same_in_running_text(written, day):
    assert parse_date(written) == day
    assert [d for _, d in find_dates(f"Le patient, opéré le {written}, va bien.")] == [day]


@pytest.mark.parametrize(("written", "day"), ALL)
@pytest.mark.parametrize("before", ["né le", "Née le", "born", "DOB:", "date de naissance :"])
def test_a_birth_date_in_any_accepted_form_is_caught_by_the_patient_data_screen(written, day, before):
    problems = patient_data_problems(f"Homme {before} {written}, insuffisance mitrale sévère")
    assert problems == [f"looks like a date of birth ({written})"]


@pytest.mark.parametrize(("written", "day"), ALL)
def test_a_birth_date_in_any_accepted_form_is_redacted_before_a_model_call(written, day):
    sent, found = Redactor().redact(f"P-014, née le {written}. Antécédents cardiaques : opérée le 3 avril 2023.")
    assert written not in sent and "3 avril 2023" in sent
    assert [f.kind for f in found] == ["DDN"]


@pytest.mark.parametrize(("written", "day"), ALL)
def test_a_certificate_expiry_in_any_accepted_form_is_read(written, day):
    found = {f.question_id: f.value for f in extract([f"Certificate No. CM-1\nValid until: {written}"],
                                                     "previous_ce_certificate")}
    assert found["previous_certificate_expiry"] == day.isoformat()


@pytest.mark.parametrize(("written", "day"), ALL)
def test_the_grounding_check_knows_a_fact_date_written_in_another_form(written, day):
    assert Sources([f"Implantation prévue le {written}."]).dates == {day}
    assert Sources([day.isoformat()]).dates == Sources([format_date(day.isoformat(), "fr")]).dates


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_formatted_date_reads_back_as_the_same_day(lang):
    for iso in ("2024-03-01", "2024-08-15", "2024-12-31", "2025-02-01"):
        assert parse_date(format_date(iso, lang)).isoformat() == iso
    assert format_date("2024-03-01", "fr") == "1er mars 2024"
    assert format_date("2024-03-01", "en") == "1 March 2024"
    assert format_date("2024-03-01T10:00:00+00:00", "en") == "1 March 2024"
    assert format_date("soon", "fr") == "soon"


def test_every_month_has_its_french_and_english_names_and_abbreviations_with_or_without_accents():
    assert {month_number(w) for w in ("févr.", "fevr", "Février", "feb", "FEB.")} == {2}
    assert {month_number(w) for w in ("déc", "dec.", "Décembre", "december")} == {12}
    assert {month_number(w) for w in ("août", "aout", "aug")} == {8}
    assert {month_number(w) for w in ("juil", "juill.", "jul")} == {7}
    assert sorted(set(MONTHS.values())) == list(range(1, 13))
    assert month_number("marsupial") is None


@pytest.mark.parametrize("text", ["31/02/2024", "31 février 2024", "2024-13-01", "12 marsupial 2024", "mars 2024",
                                  "", "12/03/58"])
def test_what_is_not_a_date_is_refused_with_the_text_quoted(text):
    with pytest.raises(ValueError, match=r"^not a date: .* \(use YYYY-MM-DD or DD/MM/YYYY\)$"):
        parse_date(text)


def test_numbers_and_standards_are_not_dates():
    text = "ISO 10993-1:2018, IEC 60601-1-2, 1 000 patients, P-01-02, version 1.2.3, 14155-2020"
    assert list(find_dates(text)) == []


def test_a_word_has_a_letter_or_a_digit():
    assert word_count("Le dispositif — 3 × 2 mm 💙 !") == 5
