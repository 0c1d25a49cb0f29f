"""`derogation …`: the command line, a thin layer over service.py.

Heavy imports (retrieval, exports) happen inside commands so that `derogation --help` is instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.config import Config, current_user, package_folder
from assistant.errors import KnowledgeError, ProfileError
from assistant.service import ROLES, Actor, ExportBlocked, Service, ServiceError


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
    text, draft = svc.draft_markdown(args.case, args.lang, use_llm=not args.offline)  # the configured LLM, if any
    sys.stdout.write(text)
    for notice in draft.notices:
        print(f"notice: {notice}", file=sys.stderr)
    for section in draft.sections:
        for notice in section.notices:
            print(f"notice: section {section.number} ({section.section_id}): {notice}", file=sys.stderr)
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
        found = svc.export(args.case, args.format, Path(args.out), args.lang, actor=_actor(args))
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
    profile = svc.profile(svc.case(args.case))
    for e in svc.history(args.case):
        section = f" [{e.data['section']}]" if e.data.get("section") else ""
        print(f"v{e.v:<4} {e.at.isoformat()}  {e.by} ({e.role})  {e.type}{section}: {e.describe(profile)}")
    return 0


def cmd_show(svc: Service, args: argparse.Namespace) -> int:
    _print_json(svc.case(args.case, args.version).model_dump(mode="json"))
    return 0


def cmd_restore(svc: Service, args: argparse.Namespace) -> int:
    case = svc.restore(args.case, args.version, _actor(args))
    print(f"restored the state of version {args.version} as version {case.version}")
    return 0


def cmd_users(svc: Service, args: argparse.Namespace) -> int:
    """The team's accounts for the web app's login (a shared deployment)."""
    if args.action == "list":
        for u in svc.accounts():
            print(f"{u.name}\t{u.role}\t{'password' if u.hash else 'identity provider'}")
        return 0
    if not args.name:
        raise ServiceError(f"users {args.action} needs a user name")
    if args.action == "remove":
        svc.remove_account(args.name)
        print(f"removed {args.name}")
        return 0
    if not args.user_role:
        raise ServiceError("users add needs --role (manufacturer, consultant or clinician)")
    password = None
    if not args.identity_provider:
        if sys.stdin.isatty():
            import getpass

            password = getpass.getpass(f"password for {args.name}: ")
            if getpass.getpass("again: ") != password:
                raise ServiceError("the two passwords differ")
        else:
            password = sys.stdin.readline().rstrip("\n")
    user = svc.add_account(args.name, args.user_role, password)
    print(f"saved {user.name} ({user.role}); the web app now asks for a login")
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


def cmd_llm(svc: Service, args: argparse.Namespace) -> int:
    """Show, change or test the language-model settings. There is no option for a key: it is read
    from OPENAI_API_KEY only, and never printed or stored."""
    if args.action == "set":
        yes_no = {"yes": True, "no": False}
        values = {k: v for k, v in {
            "provider": args.provider, "model": args.model, "base_url": args.base_url,
            "embedding_model": args.embedding_model, "timeout": args.timeout, "max_retries": args.retries,
            "max_tokens": args.max_tokens,
            "local_only": yes_no.get(args.local_only or ""), "redact_local": yes_no.get(args.redact_local or ""),
        }.items() if v is not None}
        if not values:
            raise ServiceError("nothing to change: give at least one option (see derogation llm --help)")
        svc.update_llm_settings(**values)
    if args.action == "test":
        print(f"the model answered: {svc.check_llm()[:200]!r}")
        return 0
    status = svc.llm_status()
    if args.json:
        _print_json(status)
        return 0
    for key, value in status.items():
        if key in ("providers", "api_key_set"):  # for the app's form; `api_key` says it in words
            continue
        if key == "from_environment":
            value = ", ".join(f"{f} <- {v}" for f, v in value.items()) or "nothing"
        print(f"{key:24} {value}")
    return 0


def cmd_search(svc: Service, args: argparse.Namespace) -> int:
    hits = svc.search(args.query, k=args.k, case_id=args.case, instrument=args.instrument, language=args.language)
    for notice in svc.knowledge_notices():
        print(f"notice: {notice}", file=sys.stderr)
    if args.json:
        _print_json([
            {"citation": p.citation, "source": p.source, "article": p.article, "page": p.page,
             "text": p.text, "score": p.score, "similarity": p.similarity, "id": p.id, "url": p.url}
            for p in hits
        ])
        return 0
    if not hits:
        print("No passage found.")
    for n, p in enumerate(hits, start=1):
        where = f", p. {p.page}" if p.page else ""
        print(f"{n}. {p.citation}  [{Path(p.source).name}{where}]  score {p.score:.4f}, similarity {p.similarity}")
        text = " ".join(p.text.split())
        print(f"   {text[:300]}{'…' if len(text) > 300 else ''}")
    return 0


def cmd_corpus(svc: Service, args: argparse.Namespace) -> int:
    if args.action == "list":
        sources, model = svc.corpus_sources()
        for source, count in sources:
            print(f"{count:6} chunks  {source}")
        print(f"{len(sources)} source(s), {sum(c for _, c in sources)} chunk(s); embedding model {model}")
        return 0
    if args.action == "remove":
        print(f"removed {svc.corpus_remove([Path(p) for p in args.paths])} chunk(s)")
        return 0
    if args.action == "add":
        report = svc.corpus_add([Path(p) for p in args.paths], progress=True)
    elif args.action == "sync":
        report = svc.corpus_sync(progress=True)
    else:
        report = svc.corpus_rebuild(progress=True)
    for problem in report.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    rate = report.added / report.seconds if report.seconds and report.added else 0
    print(f"{report.files} file(s): {report.added} chunk(s) added, {report.skipped} unchanged, "
          f"{report.deleted} removed in {report.seconds:.1f} s" + (f" ({rate:.0f} chunks/s)" if rate else ""))
    return 1 if report.problems and not report.added and not report.skipped else 0


def cmd_ui(svc: Service, args: argparse.Namespace) -> int:
    """Start the web app (Streamlit) on 127.0.0.1; Ctrl-C stops it."""
    import importlib.util
    import subprocess

    app = package_folder("ui") / "app.py"
    if importlib.util.find_spec("streamlit") is None:
        raise ServiceError("streamlit is not installed: pip install -e . (or pip install streamlit)")
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", "127.0.0.1",
               "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    if args.port:
        command += ["--server.port", str(args.port)]
    return subprocess.call(command, cwd=app.parent.parent)  # .streamlit/config.toml is read from the cwd


def cmd_interview(svc: Service, args: argparse.Namespace) -> int:
    from assistant.cli.interview import run_interview

    return run_interview(svc, args.case, _actor(args), args.lang)


def cmd_eval(svc: Service, args: argparse.Namespace) -> int:
    """Build each scenario's case in a temporary store and measure its draft (evals/scenarios)."""
    from assistant.service import evaluation

    folder = Path(args.scenarios) if args.scenarios else evaluation.SCENARIO_DIR
    scenarios = evaluation.load_scenarios(folder, args.only)
    knowledge = None
    if svc.config.retrieval:
        print("retrieval on (DEROGATION_RETRIEVAL=off to skip): the notes are indexed on first use", file=sys.stderr)
        knowledge = evaluation.knowledge_base(svc.store.home / "eval", svc.config)
    report = evaluation.run(scenarios, knowledge=knowledge, llm_settings=svc.llm_settings())
    path = evaluation.write_json(report, Path(args.out))
    if args.json:
        _print_json(report.as_json())
    else:
        print(evaluation.table(report))
        print(f"written {path}")
    thresholds = evaluation.load_thresholds() if evaluation.THRESHOLDS_FILE.exists() else {}
    failures = evaluation.below_thresholds(report, thresholds)
    for failure in failures:
        print(f"below threshold: {failure}", file=sys.stderr)
    return 1 if failures else 0


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
    p = add("draft", cmd_draft, "the whole draft as Markdown on stdout (with the configured LLM, if any)")
    p.add_argument("case")
    lang(p, None)
    p.add_argument("--offline", action="store_true", help="draft offline even if a language model is configured")
    p = add("waive", cmd_waive, "record a conscious exception for an evidence kind or a question")
    p.add_argument("case")
    p.add_argument("target")
    p.add_argument("--reason", required=True)
    p = add("approve", cmd_approve, "mark a section as approved by a reviewer")
    p.add_argument("case")
    p.add_argument("section")
    p.add_argument("--comment")
    p = add("export", cmd_export, "write the request as DOCX, Markdown or PDF (refused while blockers remain)")
    p.add_argument("case")
    p.add_argument("--format", choices=["docx", "md", "pdf"], required=True)
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
    p = add("search", cmd_search, "search the regulations, guidance and notes (and a case's documents)")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--case", help="also search this case's attached documents")
    p.add_argument("--instrument", help="only this instrument (MDR, IVDR, CSP, ANSM, MDCG-2022-18, …)")
    p.add_argument("--language", choices=["fr", "en"])
    p.add_argument("--json", action="store_true")
    p = add("corpus", cmd_corpus, "manage the knowledge base: add official texts (Markdown, HTML, PDF)")
    p.add_argument("action", choices=["add", "list", "remove", "sync", "rebuild"])
    p.add_argument("paths", nargs="*")
    p = add("ui", cmd_ui, "start the web app on 127.0.0.1 (http://127.0.0.1:8501 by default)")
    p.add_argument("--port", type=int, help="the port to listen on (default 8501)")
    p = add("llm", cmd_llm, "show, change or test the language-model settings (DEROGATION_LLM, "
            "DEROGATION_LLM_MODEL, OPENAI_BASE_URL; the key only ever from OPENAI_API_KEY)")
    p.add_argument("action", nargs="?", choices=["show", "set", "test"], default="show")
    p.add_argument("--provider", choices=["none", "openai", "openai-compatible"])
    p.add_argument("--model")
    p.add_argument("--base-url", help="an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1")
    p.add_argument("--embedding-model")
    p.add_argument("--local-only", choices=["yes", "no"], help="refuse any server not on this machine")
    p.add_argument("--redact-local", choices=["yes", "no"],
                   help="remove patient identifiers even for a server on this machine (always for others)")
    p.add_argument("--timeout", type=float, help="seconds")
    p.add_argument("--retries", type=int)
    p.add_argument("--max-tokens", type=int, help="the longest answer to ask for (0: the server's default)")
    p.add_argument("--json", action="store_true")
    p = add("users", cmd_users, "the team's accounts for the web app's login (password read from stdin)")
    p.add_argument("action", choices=["add", "list", "remove"])
    p.add_argument("name", nargs="?")
    p.add_argument("--role", dest="user_role", choices=ROLES)
    p.add_argument("--identity-provider", action="store_true",
                   help="an e-mail that logs in through the OIDC provider (no password here)")
    p = add("settings", cmd_settings, "show or change a case's settings")
    p.add_argument("case")
    p.add_argument("--require-approval", choices=["yes", "no"])
    p.add_argument("--language", choices=["fr", "en"], help="the default drafting language")
    p = add("eval", cmd_eval, "measure draft quality on the scenario cases (findings, facts, citations)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--only", metavar="NAME", help="only this scenario")
    p.add_argument("--out", default="evals/results", help="where to write scenarios.json (default evals/results)")
    p.add_argument("--scenarios", metavar="DIR", help="the scenario folder (default: the checkout's evals/scenarios)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = Config.from_env()
        lightweight = args.command in ("cases", "history", "show", "new", "answer", "attach", "waive",
                                       "approve", "restore", "settings", "questions", "interview", "llm", "users")
        return args.func(Service.from_config(config, retrieval=config.retrieval and not lightweight), args)
    except (ServiceError, ProfileError, KnowledgeError) as exc:
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
