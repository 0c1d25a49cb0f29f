"""The commands on a case: create, answer, attach, check, draft, waive, approve, export, history,
restore, settings, the terminal interview."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.cli.output import acting, print_json
from assistant.service import ExportBlocked, Service, words


def cmd_new(svc: Service, args: argparse.Namespace) -> int:
    case = svc.new_case(args.authority, args.type, args.device or "", acting(args))
    print(case.id)
    return 0


def cmd_questions(svc: Service, args: argparse.Namespace) -> int:
    prompts = svc.questions(args.case)
    if args.json:
        print_json([p.as_json(args.lang) for p in prompts])
        return 0
    if not prompts:
        print("No open questions: every answer the draft needs is known.")
    for p in prompts:
        tag = " (follow-up)" if p.followup else ""
        optional = " (optional)" if not p.question.required else ""
        print(f"{p.question.id} [{p.section.id}]{tag}{optional}: {p.text(args.lang)}")
    return 0


def cmd_answer(svc: Service, args: argparse.Namespace) -> int:
    case = svc.answer(args.case, args.question, args.text, acting(args), replace=args.replace)
    answer = case.answers[args.question]
    print(f"recorded {args.question} = {answer.value!r} (case version {case.version})")
    nxt = svc.next_question(args.case)
    if nxt and nxt.question.id == args.question and nxt.followup:
        print(f"follow-up: {nxt.text(args.lang)}")
    return 0


def _bar(desc: str, unit: str):
    """A progress bar on stderr (shown only on a terminal), as a (done, total) callback."""
    state: dict = {}

    def step(done: int, total: int) -> None:
        if not sys.stderr.isatty() or total < 2:
            return
        if "bar" not in state:
            from tqdm import tqdm

            state["bar"] = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True)
        bar = state["bar"]
        bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return step


def cmd_attach(svc: Service, args: argparse.Namespace) -> int:
    """Read and record the document, then return: it is indexed by a worker process of its own, which
    this command follows with a progress bar on a terminal (Ctrl-C stops following, not indexing), or
    waits for with --wait ($DEROGATION_ATTACH_WAIT); `check` never waits for it."""
    result = svc.attach(args.case, Path(args.file), acting(args), kind=args.kind, note=args.note or "",
                        on_progress=_bar("reading", "page"), index="background")
    f = result.file
    how = " (guessed from its content: change it with --kind)" if result.guessed_kind else ""
    print(f"attached {f.filename} as {f.kind}{how}: {f.pages} page(s), sha256 {f.sha256[:12]}, id {f.id}")
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.yes or args.facts:
        from assistant.cli.tell import record_document_facts

        lang = args.lang or svc.case(args.case).settings.language
        record_document_facts(svc, args.case, f.id, acting(args), lang, args.yes)
    if svc.indexing(args.case) is None:
        return 0
    wait = args.wait or svc.config.attach_wait
    if not (wait or sys.stderr.isatty()):
        print("indexing it in the background (`attach --wait` waits for it)", file=sys.stderr)
        return 0
    return _follow_indexing(svc, args.case, wait)


def _follow_indexing(svc: Service, case_id: str, wait: bool) -> int:
    """The background indexing of the case followed to its end, with a bar on a terminal."""
    import time

    bar = _bar("indexing", "passage")
    try:
        while (state := svc.indexing(case_id)) is not None:
            bar(*state)
            time.sleep(0.2)
    except KeyboardInterrupt:
        if wait:
            raise
        print("\nthe indexing goes on in the background", file=sys.stderr)
        return 0
    error = svc.indexing_error(case_id)
    if error:
        print(f"warning: the document could not be indexed: {error} (the next check tries again)", file=sys.stderr)
    return 0


def cmd_index_worker(svc: Service, args: argparse.Namespace) -> int:
    """The worker `attach` starts (not a user's command): index the case's documents."""
    return svc.index_worker(args.case)


def _print_findings(found: list, stream=sys.stdout) -> None:
    if not found:
        print("No findings: the request is complete.", file=stream)
    for f in found:
        sev = "waived" if f.waived else f.severity
        ref = getattr(f, "rule", None) or f.question_id or f.evidence_kind or ""  # a rule: what `waive` accepts
        extra = f" [{ref}]" if ref else ""
        why = f" (waived: {f.waiver_reason})" if f.waived else ""
        print(f"{sev:8} {f.section:26} {f.kind:17} {f.message}{extra}{why}", file=stream)


def cmd_check(svc: Service, args: argparse.Namespace) -> int:
    found = svc.check(args.case, args.lang)
    if args.json:
        print_json([f.model_dump() for f in found])
    else:
        _print_findings(found)
        blockers = sum(1 for f in found if f.blocks)
        print(f"\n{blockers} blocker(s), {sum(1 for f in found if f.severity == 'warning')} warning(s)")
    waiting = svc.documents_waiting(args.case)
    if waiting:  # never waited for: the findings are the case's, the passages of these documents come later
        print(f"notice: {words('documents_pending', args.lang, waiting)}", file=sys.stderr)
    return 0


def cmd_draft(svc: Service, args: argparse.Namespace) -> int:
    text, draft = svc.draft_markdown(args.case, args.lang, use_llm=not args.offline)  # the configured LLM, if any
    sys.stdout.write(text)
    for notice in draft.notices:
        print(f"notice: {notice}", file=sys.stderr)
    for section in draft.sections:
        for notice in section.notices:
            print(f"notice: section {section.number} ({section.section_id}): {notice}", file=sys.stderr)
    return 0


def cmd_waive(svc: Service, args: argparse.Namespace) -> int:
    svc.waive(args.case, args.target, args.reason, acting(args))
    print(f"waived {args.target}: {args.reason}")
    return 0


def cmd_approve(svc: Service, args: argparse.Namespace) -> int:
    svc.approve(args.case, args.section, acting(args), args.comment or "")
    print(f"approved section {args.section}")
    return 0


def cmd_export(svc: Service, args: argparse.Namespace) -> int:
    try:
        found = svc.export(args.case, args.format, Path(args.out), args.lang, actor=acting(args),
                           pack=getattr(args, "pack", "submission"))
    except ExportBlocked as exc:
        print(f"error: {exc}: complete them, or waive each with a reason (derogation waive):", file=sys.stderr)
        _print_findings(exc.blockers, sys.stderr)
        return 3
    waived = sum(1 for f in found if f.waived)
    identifying = [f for f in found if f.kind == "patient_identifier"]
    if identifying:  # the file is written, but the user must know it may identify a patient
        print(words("privacy_export", args.lang or "en", n=len(identifying)), file=sys.stderr)
        _print_findings(identifying, sys.stderr)
    print(f"exported {args.out} ({sum(1 for f in found if f.severity == 'warning')} warning(s), {waived} waived item(s))")
    return 0


def cmd_cases(svc: Service, args: argparse.Namespace) -> int:
    rows = svc.cases()
    if args.json:
        print_json([r.__dict__ for r in rows])
        return 0
    if not rows:
        print(f"No cases yet in {svc.store.root}. Start one with: derogation new --type individual --device NAME")
    for r in rows:
        state = "ready to export" if r.blockers == 0 else f"{r.blockers} blocker(s)"
        print(f"{r.id}  {r.authority}  {r.request_type:10}  {r.device[:40]:40}  v{r.version}  "
              f"{r.open_questions} open question(s), {state}")
    return 0


def cmd_history(svc: Service, args: argparse.Namespace) -> int:
    profile = svc.profile(svc.case(args.case))
    for e in svc.history(args.case):
        section = f" [{e.data['section']}]" if e.data.get("section") else ""
        print(f"v{e.v:<4} {e.at.isoformat()}  {e.by} ({e.role})  {e.type}{section}: {e.describe(profile)}")
    return 0


def cmd_show(svc: Service, args: argparse.Namespace) -> int:
    print_json(svc.case(args.case, args.version).model_dump(mode="json"))
    return 0


def cmd_restore(svc: Service, args: argparse.Namespace) -> int:
    case = svc.restore(args.case, args.version, acting(args))
    print(f"restored the state of version {args.version} as version {case.version}")
    return 0


def cmd_settings(svc: Service, args: argparse.Namespace) -> int:
    values: dict[str, object] = {}
    if args.require_approval is not None:
        values["require_approval"] = args.require_approval == "yes"
    if args.language:
        values["language"] = args.language
    case = svc.set_setting(args.case, acting(args), **values) if values else svc.case(args.case)
    print_json(case.settings.model_dump())
    return 0

def cmd_interview(svc: Service, args: argparse.Namespace) -> int:
    from assistant.cli.interview import run_interview

    return run_interview(svc, args.case, acting(args), args.lang)


def cmd_route(svc: Service, args: argparse.Namespace) -> int:
    result = svc.route(args.case, args.lang)
    if args.json:
        print_json(result.as_json())
        return 0
    fr = args.lang == "fr"
    marks = {"yes": "oui" if fr else "yes", "no": "non" if fr else "no", "unknown": "inconnu" if fr else "unknown"}
    print(f"Conclusion : {result.conclusion}" if fr else f"Conclusion: {result.conclusion}")
    for route in result.routes:
        print(f"\n{route.id} — {marks[route.applies]}")
        for reason in route.reasons:
            print(f"  - {reason}")
        for cite in route.citations:
            print(f"    {cite['label']} <{cite['url']}>")
    return 0
