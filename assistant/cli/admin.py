"""The commands around the cases: the team's accounts, the language model, the knowledge base
(search, corpus), the web app and the evaluation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.cli.output import acting, print_json
from assistant.config import package_folder
from assistant.service import Service, ServiceError, words


def cmd_users(svc: Service, args: argparse.Namespace) -> int:
    """The team's accounts for the web app's login (a shared deployment)."""
    if args.action == "list":
        for u in svc.accounts():
            print(f"{u.name}\t{u.role}\t{'password' if u.hash else 'identity provider'}")
        return 0
    if not args.name:
        raise ServiceError(f"users {args.action} needs a user name")
    if args.action == "remove":
        svc.remove_account(args.name, actor=getattr(args, "signed_in", None))
        print(f"removed {args.name}")
        return 0
    if not args.user_role:
        raise ServiceError("users add needs --role (manufacturer, consultant or clinician)")
    if not args.reset and any(u.name == args.name.strip() for u in svc.accounts()):
        raise ServiceError(f"the account {args.name!r} already exists; nothing was changed. "
                           "To replace its role and password: derogation users add NAME --role ROLE --reset")
    password = None
    if not args.identity_provider:
        if sys.stdin.isatty():
            import getpass

            password = getpass.getpass(f"password for {args.name}: ")
            if getpass.getpass("again: ") != password:
                raise ServiceError("the two passwords differ")
        else:
            password = sys.stdin.readline().rstrip("\n")
    user = svc.add_account(args.name, args.user_role, password, reset=args.reset,
                           actor=getattr(args, "signed_in", None))
    print(f"{'reset' if args.reset else 'saved'} {user.name} ({user.role}); the web app now asks for a login")
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
        svc.update_llm_settings(acting(args), **values)
    if args.action == "test":
        print(f"the model answered: {svc.check_llm()[:200]!r}")
        return 0
    status = svc.llm_status()
    if args.json:
        print_json(status)
        return 0
    for key, value in status.items():
        if key in ("providers", "api_key_set"):  # for the app's form; `api_key` says it in words
            continue
        if key == "from_environment":
            value = ", ".join(f"{f} <- {v}" for f, v in value.items()) or "nothing"
        print(f"{key:24} {value}")
    return 0


def cmd_search(svc: Service, args: argparse.Namespace) -> int:
    lang = args.lang or svc.query_language(args.query)
    # the notes in the reader's language: each exists in French and in English
    hits = svc.search(args.query, k=args.k, case_id=args.case, instrument=args.instrument, language=args.language,
                      notes=args.notes, notes_language=args.language or lang)
    for notice in svc.knowledge_notices():
        print(f"notice: {notice}", file=sys.stderr)
    if args.json:
        print_json([
            {"list": "notes" if p.is_note else "official", "kind": p.kind,
             "citation": p.citation, "title": p.title, "url": p.url, "excerpt": p.excerpt, "source": p.source,
             "article": p.article, "page": p.page, "text": p.text, "superseded": p.superseded, "amended": p.amended,
             "same_text_in": list(p.same_text_in),
             "score": p.score, "similarity": p.similarity,
             "id": p.id}
            for p in hits
        ])
        return 0
    official = [p for p in hits if not p.is_note]
    notes = [p for p in hits if p.is_note]
    # The official texts (and the case's own documents) are what a request cites; the project's notes
    # are its own summaries, ranked apart and listed after them.
    print(words("search_official", lang))
    if not official:
        print(f"   {words('search_no_official', lang)}")
    _print_hits(official, lang)
    if notes:
        print()
        print(words("search_notes", lang))
        _print_hits(notes, lang)
    return 0


def _print_hits(hits: list, lang: str) -> None:
    for n, p in enumerate(hits, start=1):
        title = f" — {p.title}" if p.title and p.title not in p.citation else ""
        print(f"{n}. {p.citation}{title}")
        if p.case_id:  # the case's own document: its file and page
            print(f"   {Path(p.source).name}" + (f", p. {p.page}" if p.page else ""))
        else:
            print(f"   {p.url or words('search_no_url', lang)}")
        if p.superseded:
            print(f"   {words('search_partly_superseded', lang, p.superseded)}")
        if p.amended:
            print(f"   {words('search_amended', lang, p.amended)}")
        if p.same_text_in:  # a series' repeated section, shown once: where else it stands
            print(f"   {words('search_same_text_in', lang, '; '.join(p.same_text_in))}")
        print(f"   « {p.excerpt} »" if p.excerpt else "")


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
    host = (args.host or "127.0.0.1").strip()
    if not is_loopback(host) and not (svc.login_required() or _oidc_configured(app.parent.parent)):
        raise ServiceError(words("ui_host_refused", args.lang or "en", host))
    if importlib.util.find_spec("streamlit") is None:
        raise ServiceError("streamlit is not installed: pip install -e . (or pip install streamlit)")
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", host,
               "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    if args.port:
        command += ["--server.port", str(args.port)]
    return subprocess.call(command, cwd=app.parent.parent)  # .streamlit/config.toml is read from the cwd




def is_loopback(host: str) -> bool:
    """Whether `host` is this machine only (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _oidc_configured(root: Path) -> bool:
    """An identity provider for the app's login (an [auth] section in .streamlit/secrets.toml)."""
    import tomllib

    for path in (root / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"):
        try:
            if "auth" in tomllib.loads(path.read_text(encoding="utf-8")):
                return True
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return False


def cmd_eval(svc: Service, args: argparse.Namespace) -> int:
    """Build each scenario's case in a temporary store and measure its draft (evals/scenarios)."""
    from assistant import evaluation

    folder = Path(args.scenarios) if args.scenarios else evaluation.SCENARIO_DIR
    scenarios = evaluation.load_scenarios(folder, args.only)
    knowledge = None
    if svc.config.retrieval:
        print("retrieval on (DEROGATION_RETRIEVAL=off to skip): the notes are indexed on first use", file=sys.stderr)
        knowledge = evaluation.knowledge_base(svc.store.home / "eval", svc.config)
    report = evaluation.run(scenarios, knowledge=knowledge, llm_settings=svc.llm_settings())
    path = evaluation.write_json(report, Path(args.out))
    if args.json:
        print_json(report.as_json())
    else:
        print(evaluation.table(report))
        print(f"written {path}")
    thresholds = evaluation.load_thresholds() if evaluation.THRESHOLDS_FILE.exists() else {}
    failures = evaluation.below_thresholds(report, thresholds)
    for failure in failures:
        print(f"below threshold: {failure}", file=sys.stderr)
    return 1 if failures else 0
