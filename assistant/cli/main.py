"""`derogation …`: the command line, a thin layer over service.py.

Heavy imports (retrieval, exports) happen inside commands so that `derogation --help` is instant.
"""

from __future__ import annotations

import argparse
import sys

from assistant.cli.admin import cmd_corpus, cmd_eval, cmd_llm, cmd_search, cmd_ui, cmd_users
from assistant.cli.cases import (
    cmd_answer,
    cmd_approve,
    cmd_attach,
    cmd_cases,
    cmd_check,
    cmd_draft,
    cmd_export,
    cmd_history,
    cmd_index_worker,
    cmd_interview,
    cmd_new,
    cmd_questions,
    cmd_restore,
    cmd_route,
    cmd_settings,
    cmd_show,
    cmd_waive,
)
from assistant.cli.output import sign_in
from assistant.cli.tell import cmd_tell
from assistant.config import Config
from assistant.errors import KnowledgeError, ProfileError
from assistant.service import ROLES, Service, ServiceError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="derogation",
        description="Draft a request for derogatory access to a non-CE-marked medical device (MDR Art. 59).",
    )
    parser.add_argument("--by", help="who is acting (default: $DEROGATION_USER or your login)")
    parser.add_argument("--role", choices=ROLES, help="your role (default: manufacturer; with accounts, your account's)")
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
    p.add_argument("--yes", action="store_true", help="record every fact the document states (listed with its page)")
    p.add_argument("--facts", action="store_true", help="list the facts the document states and ask which to record")
    p.add_argument("--wait", action="store_true",
                   help="wait until the document is indexed for retrieval (else it goes on in the background)")
    lang(p, None)
    p = sub.add_parser("index-worker")  # what `attach` starts in the background: not listed
    p.set_defaults(func=cmd_index_worker)
    p.add_argument("case")
    p = add("tell", cmd_tell, "describe the request in your own words: every fact it states, listed "
            "(field, value, source), recorded with --yes or after asking")
    p.add_argument("case")
    p.add_argument("text", help="the description ('-' reads it from stdin)")
    p.add_argument("--yes", action="store_true", help="record everything understood without asking")
    p.add_argument("--offline", action="store_true", help="the rules only, even if a language model is configured")
    lang(p, None)
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
    p.add_argument("--pack", choices=["submission", "review"], default="submission",
                   help="submission: the clean request to file (default); review: the traceability pack (docx, md)")
    lang(p, None)
    p = add("interview", cmd_interview, "describe the request in your words, then answer what is still missing")
    p.add_argument("case")
    lang(p, None)
    p = add("route", cmd_route, "which legal route the law offers the case (derogation, Art. 120, custom-made, …)")
    p.add_argument("case")
    p.add_argument("--json", action="store_true")
    lang(p, "fr")
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
    p.add_argument("--language", choices=["fr", "en"], help="only the texts in this language")
    p.add_argument("--notes", type=int, default=None,
                   help="how many of the project's notes to list after the official texts (default 3; 0: none)")
    p.add_argument("--json", action="store_true")
    lang(p, None)
    p = add("corpus", cmd_corpus, "manage the knowledge base: add official texts (Markdown, HTML, PDF)")
    p.add_argument("action", choices=["add", "list", "remove", "sync", "rebuild"])
    p.add_argument("paths", nargs="*")
    p = add("ui", cmd_ui, "start the web app on 127.0.0.1 (http://127.0.0.1:8501 by default)")
    p.add_argument("--port", type=int, help="the port to listen on (default 8501)")
    p.add_argument("--host", help="the address to listen on (default 127.0.0.1); beyond this machine only "
                                  "with team accounts or an identity provider set up")
    lang(p, None)
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
    p.add_argument("--reset", action="store_true", help="replace an existing account's role and password")
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
        lightweight = args.command in ("cases", "history", "show", "new", "answer", "waive",
                                       "approve", "restore", "settings", "questions", "interview", "llm", "users",
                                       "route")
        svc = Service.from_config(config, retrieval=config.retrieval and not lightweight)
        args.signed_in = sign_in(svc, args)
        return args.func(svc, args)
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
