"""`derogation …`: the command line, a thin layer over service.py.

Heavy imports (retrieval, exports) happen inside commands so that `derogation --help` is instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .case import ROLES
from .profile import ProfileError
from .service import Actor, ExportBlocked, Service, ServiceError
from .settings import current_user


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _actor(args: argparse.Namespace) -> Actor:
    return Actor(name=args.by or current_user(), role=args.role)


def cmd_new(svc: Service, args: argparse.Namespace) -> int:
    case = svc.new_case(args.authority, args.type, args.device or "", _actor(args))
    print(case.id)
    return 0


def cmd_questions(svc: Service, args: argparse.Namespace) -> int:
    prompts = svc.questions(args.case)
    if args.json:
        _print_json([p.as_json(args.lang) for p in prompts])
        return 0
    if not prompts:
        print("No open questions: every answer the draft needs is known.")
    for p in prompts:
        tag = " (follow-up)" if p.followup else ""
        optional = " (optional)" if not p.question.required else ""
        print(f"{p.question.id} [{p.section.id}]{tag}{optional}: {p.text(args.lang)}")
    return 0


def cmd_answer(svc: Service, args: argparse.Namespace) -> int:
    case = svc.answer(args.case, args.question, args.text, _actor(args), replace=args.replace)
    answer = case.answers[args.question]
    print(f"recorded {args.question} = {answer.value!r} (case version {case.version})")
    nxt = svc.next_question(args.case)
    if nxt and nxt.question.id == args.question and nxt.followup:
        print(f"follow-up: {nxt.text(args.lang)}")
    return 0


def cmd_attach(svc: Service, args: argparse.Namespace) -> int:
    result = svc.attach(args.case, Path(args.file), _actor(args), kind=args.kind, note=args.note or "")
    f = result.file
    how = " (guessed from its content: change it with --kind)" if result.guessed_kind else ""
    print(f"attached {f.filename} as {f.kind}{how}: {f.pages} page(s), sha256 {f.sha256[:12]}, id {f.id}")
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0


def _print_findings(found: list, stream=sys.stdout) -> None:
    if not found:
        print("No findings: the request is complete.", file=stream)
    for f in found:
        sev = "waived" if f.waived else f.severity
        ref = f.question_id or f.evidence_kind or ""
        extra = f" [{ref}]" if ref else ""
        why = f" (waived: {f.waiver_reason})" if f.waived else ""
        print(f"{sev:8} {f.section:26} {f.kind:17} {f.message}{extra}{why}", file=stream)


def cmd_check(svc: Service, args: argparse.Namespace) -> int:
    found = svc.check(args.case, args.lang)
    if args.json:
        _print_json([f.model_dump() for f in found])
    else:
        _print_findings(found)
        blockers = sum(1 for f in found if f.blocks)
        print(f"\n{blockers} blocker(s), {sum(1 for f in found if f.severity == 'warning')} warning(s)")
    return 0


def cmd_draft(svc: Service, args: argparse.Namespace) -> int:
    from . import export

    case = svc.case(args.case)
    draft = svc.draft(args.case, args.lang)
    sys.stdout.write(export.to_markdown(svc.profile(case), case, draft))
    return 0


def cmd_waive(svc: Service, args: argparse.Namespace) -> int:
    svc.waive(args.case, args.target, args.reason, _actor(args))
    print(f"waived {args.target}: {args.reason}")
    return 0


def cmd_approve(svc: Service, args: argparse.Namespace) -> int:
    svc.approve(args.case, args.section, _actor(args), args.comment or "")
    print(f"approved section {args.section}")
    return 0


def cmd_export(svc: Service, args: argparse.Namespace) -> int:
    try:
        found = svc.export(args.case, args.format, Path(args.out), args.lang)
    except ExportBlocked as exc:
        print(f"error: {exc}: complete them, or waive each with a reason (derogation waive):", file=sys.stderr)
        _print_findings(exc.blockers, sys.stderr)
        return 3
    waived = sum(1 for f in found if f.waived)
    print(f"exported {args.out} ({sum(1 for f in found if f.severity == 'warning')} warning(s), {waived} waived item(s))")
    return 0


def cmd_cases(svc: Service, args: argparse.Namespace) -> int:
    rows = svc.cases()
    if args.json:
        _print_json([r.__dict__ for r in rows])
        return 0
    if not rows:
        print(f"No cases yet in {svc.store.root}. Start one with: derogation new --type individual --device NAME")
    for r in rows:
        state = "ready to export" if r.blockers == 0 else f"{r.blockers} blocker(s)"
        print(f"{r.id}  {r.authority}  {r.request_type:10}  {r.device[:40]:40}  v{r.version}  "
              f"{r.open_questions} open question(s), {state}")
    return 0


def cmd_history(svc: Service, args: argparse.Namespace) -> int:
    for e in svc.store.events(args.case):
        what = e.data.get("question_id") or e.data.get("target") or e.data.get("section") or ""
        print(f"v{e.v:<4} {e.at.isoformat()}  {e.by} ({e.role})  {e.type} {what}")
    return 0


def cmd_show(svc: Service, args: argparse.Namespace) -> int:
    _print_json(svc.case(args.case, args.version).model_dump(mode="json"))
    return 0


def cmd_restore(svc: Service, args: argparse.Namespace) -> int:
    case = svc.restore(args.case, args.version, _actor(args))
    print(f"restored the state of version {args.version} as version {case.version}")
    return 0


def cmd_settings(svc: Service, args: argparse.Namespace) -> int:
    values: dict[str, object] = {}
    if args.require_approval is not None:
        values["require_approval"] = args.require_approval == "yes"
    if args.language:
        values["language"] = args.language
    case = svc.set_setting(args.case, _actor(args), **values) if values else svc.case(args.case)
    _print_json(case.settings.model_dump())
    return 0


def cmd_interview(svc: Service, args: argparse.Namespace) -> int:
    from .interview_tty import run_interview

    return run_interview(svc, args.case, _actor(args), args.lang)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="derogation",
        description="Draft a request for derogatory access to a non-CE-marked medical device (MDR Art. 59).",
    )
    parser.add_argument("--by", help="who is acting (default: $DEROGATION_USER or your login)")
    parser.add_argument("--role", choices=ROLES, default="manufacturer", help="your role (default: manufacturer)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    def lang(p: argparse.ArgumentParser, default: str | None = "en") -> None:
        p.add_argument("--lang", choices=["fr", "en"], default=default)

    p = add("new", cmd_new, "start a case; prints its id")
    p.add_argument("--authority", default="ansm")
    p.add_argument("--type", choices=["individual", "global"], required=True)
    p.add_argument("--device", help="the device's trade name")
    p = add("questions", cmd_questions, "the open questions, in interview order")
    p.add_argument("case")
    p.add_argument("--json", action="store_true")
    lang(p)
    p = add("answer", cmd_answer, "record an answer (a thin justification gets a follow-up)")
    p.add_argument("case")
    p.add_argument("question")
    p.add_argument("text")
    p.add_argument("--replace", action="store_true", help="replace the answer instead of completing it")
    lang(p)
    p = add("attach", cmd_attach, "attach a PDF document as evidence")
    p.add_argument("case")
    p.add_argument("file")
    p.add_argument("--kind", help="the evidence kind (guessed from the content if omitted)")
    p.add_argument("--note")
    p = add("check", cmd_check, "what is missing, per section")
    p.add_argument("case")
    p.add_argument("--json", action="store_true")
    lang(p)
    p = add("draft", cmd_draft, "the whole draft as Markdown on stdout")
    p.add_argument("case")
    lang(p, None)
    p = add("waive", cmd_waive, "record a conscious exception for an evidence kind or a question")
    p.add_argument("case")
    p.add_argument("target")
    p.add_argument("--reason", required=True)
    p = add("approve", cmd_approve, "mark a section as approved by a reviewer")
    p.add_argument("case")
    p.add_argument("section")
    p.add_argument("--comment")
    p = add("export", cmd_export, "write the request as DOCX or Markdown (refused while blockers remain)")
    p.add_argument("case")
    p.add_argument("--format", choices=["docx", "md"], required=True)
    p.add_argument("--out", required=True)
    lang(p, None)
    p = add("interview", cmd_interview, "answer the open questions one by one in the terminal")
    p.add_argument("case")
    lang(p)
    p = add("cases", cmd_cases, "the cases on this machine, with their state")
    p.add_argument("--json", action="store_true")
    p = add("history", cmd_history, "every change made to a case")
    p.add_argument("case")
    p = add("show", cmd_show, "a case as JSON, now or at an earlier version")
    p.add_argument("case")
    p.add_argument("--version", type=int)
    p = add("restore", cmd_restore, "bring back the state of an earlier version (recorded as a new change)")
    p.add_argument("case")
    p.add_argument("--version", type=int, required=True)
    p = add("settings", cmd_settings, "show or change a case's settings")
    p.add_argument("case")
    p.add_argument("--require-approval", choices=["yes", "no"])
    p.add_argument("--language", choices=["fr", "en"], help="the default drafting language")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(Service(), args)
    except (ServiceError, ProfileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): nothing more to say
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted: every answer given so far is saved", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
