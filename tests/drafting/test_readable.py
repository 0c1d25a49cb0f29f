"""The edit box's readable form: references by name, mapped back to the stored markers losslessly."""

from __future__ import annotations

from assistant.drafting.readable import Legend

SOURCE = ("Urgence : sous dix jours [@answer:urgency]. Voir [@provision:mdr_59_1] et [@passage:3f9a2b1c] "
          "[@passage:77aa00bb] [sic]. [?patient_condition: À COMPLÉTER : situation clinique]")


def legend() -> Legend:
    return Legend.build(
        {"answer:urgency": "Réponse : urgence", "provision:mdr_59_1": "RDM art. 59(1)",
         "passage:3f9a2b1c": "RDM art. 59(1)", "passage:77aa00bb": "Note [ANSM] procédure"},
        {"patient_condition": "À COMPLÉTER : situation clinique"},
    )


def test_names_are_readable_unique_and_come_back_as_the_stored_markers():
    table = legend()
    shown = table.to_readable(SOURCE)
    assert "[@" not in shown and "[?" not in shown and "3f9a" not in shown
    assert "[RDM art. 59(1)] et [RDM art. 59(1) (2)]" in shown  # the same name twice: numbered
    assert "[Note (ANSM) procédure]" in shown and "[sic]" in shown  # brackets in a name; a typed bracket kept
    assert table.to_source(shown) == SOURCE
    edited = shown.replace("sous dix jours", "sous  huit jours")
    assert table.to_source(edited) == SOURCE.replace("sous dix jours", "sous  huit jours")


def test_a_name_that_matches_nothing_is_reported_not_dropped():
    table = legend()
    shown = table.to_readable(SOURCE).replace("[Réponse : urgence]", "[Réponse : urgense]")
    assert table.unknown(shown) == ["Réponse : urgense"]
    assert table.unknown(table.to_readable(SOURCE)) == []
