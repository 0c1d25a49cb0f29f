import json

import pytest

from assistant.case.store import CaseStore, StoreError, validate_case_id
from assistant.service import ConflictError, ServiceError


@pytest.mark.parametrize("bad", ["../x", "a/b", "/etc", "..", "A-UPPER", "x", "a b", "é-case", "a" * 65, "", "c\x00x"])
def test_a_case_id_is_never_a_path(bad):
    with pytest.raises(StoreError, match="invalid case id"):
        validate_case_id(bad)


def test_service_refuses_a_traversal_case_id(svc):
    with pytest.raises(ServiceError, match="invalid case id"):
        svc.case("../../etc")


def test_crash_between_journal_append_and_snapshot_rename_loses_no_answer(svc, actor, monkeypatch):
    case = svc.new_case("ansm", "individual", "Valve X", actor)
    svc.answer(case.id, "applicant_name", "Valvix Medical SAS", actor)

    def crash(self, case_id, case):
        raise OSError("simulated power cut before the rename")

    monkeypatch.setattr(CaseStore, "write_snapshot", crash)
    with pytest.raises(OSError):
        svc.answer(case.id, "applicant_address", "12 rue des Tanneurs, Montpellier", actor)
    with pytest.raises(OSError):
        svc.answer(case.id, "device_class", "III", actor)
    monkeypatch.undo()

    snapshot = json.loads((svc.store.folder(case.id) / "case.json").read_text())
    assert "applicant_address" not in snapshot["answers"]  # the snapshot is behind...
    recovered = svc.case(case.id)  # ...but the journal has every acknowledged answer
    assert recovered.value("applicant_address") == "12 rue des Tanneurs, Montpellier"
    assert recovered.value("device_class") == "III"
    assert recovered.version == 4
    # and the next write continues from the recovered state
    svc.answer(case.id, "applicant_contact", "C. Roussel, QA/RA", actor)
    assert svc.case(case.id).version == 5


def test_torn_last_journal_line_is_ignored_and_a_corrupt_snapshot_is_rebuilt(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve X", actor)
    svc.answer(case.id, "applicant_name", "Valvix", actor)
    folder = svc.store.folder(case.id)
    with open(folder / "journal.jsonl", "ab") as fh:
        fh.write(b'{"v": 3, "type": "answ')  # crash mid-append: never acknowledged
    (folder / "case.json").write_text("{not json")
    loaded = svc.case(case.id)
    assert loaded.value("applicant_name") == "Valvix"
    assert loaded.version == 2


def test_any_earlier_state_can_be_recovered_and_restored(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve X", actor)
    svc.answer(case.id, "applicant_name", "First name of firm", actor)
    svc.answer(case.id, "applicant_name", "Second name of firm", actor)
    assert svc.case(case.id, version=2).value("applicant_name") == "First name of firm"
    restored = svc.restore(case.id, 2, actor)
    assert restored.value("applicant_name") == "First name of firm"
    assert restored.version == 4
    history = [e.type for e in svc.store.events(case.id)]
    assert history == ["created", "answered", "answered", "restored"]


def test_an_answer_keeps_its_provenance(svc):
    from assistant.service import Actor

    case = svc.new_case("ansm", "individual", "Valve X", Actor("alice", "manufacturer"))
    svc.answer(case.id, "applicant_name", "Valvix", Actor("bob", "consultant"))
    entry = svc.case(case.id).answers["applicant_name"].entries[-1]
    assert (entry.by, entry.role, entry.source) == ("bob", "consultant", "user")
    assert entry.at.tzinfo is not None
    created = svc.case(case.id).answers["device_name"].entries[0]
    assert (created.by, created.source) == ("alice", "case_creation")


def test_a_stale_writer_gets_a_conflict_not_a_silent_overwrite(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve X", actor)
    seen = svc.case(case.id).version
    svc.answer(case.id, "applicant_name", "Written by session A", actor, expected_version=seen)
    with pytest.raises(ConflictError, match="changed by someone else"):
        svc.answer(case.id, "applicant_name", "Written by session B", actor, expected_version=seen)
    assert svc.case(case.id).value("applicant_name") == "Written by session A"
