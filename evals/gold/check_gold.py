#!/usr/bin/env python3
"""Checker for evals/gold/retrieval_v2.yaml (standard library + PyYAML; the product's own rule for
superseded wording, assistant/knowledge/superseded.py, for the quotes).

Verifies: YAML loads as a list; required fields and allowed values; ids unique; every expected
file exists under the reference corpus; every quote (5-20 words) occurs in its file after
collapsing whitespace and none lies in wording the product refuses as superseded law (an item on
such an article is marked `amended` and names the guidance quoting the amended text); paraphrase
items name no article/annex/document; composition counts; the deterministic stratified split rule. Prints counts and exits non-zero on any failure.

Usage: python3 evals/gold/check_gold.py [path/to/retrieval_v2.yaml] [--ref /path/to/reference/eu]
"""
import os
import re
import sys
from collections import Counter

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_GOLD = os.path.join(HERE, "retrieval_v2.yaml")
DEFAULT_REF = os.environ.get("GOLD_REF_DIR", "/work/shared/reference/eu")

MIN_ITEMS = 160
MIN_PER_KIND = 60
MIN_PARAPHRASE_FRACTION = 1 / 3
LANG_SHARE_RANGE = (0.45, 0.55)       # "exactly or about half" French
VALIDATION_SHARE_RANGE = (0.35, 0.45)  # "about 40 %"
MAX_ITEMS_PER_FILE = 8
QUOTE_WORDS = (5, 20)

# Things a paraphrase question must not contain: article/annex references, document numbers/titles.
FORBIDDEN_IN_PARAPHRASE = re.compile(
    r"(?i)\b(articles?|art\.|annex(e|es)?|mdcg|meddev|nbog|rule\s*\d+|r[eè]gle\s*\d+|"
    r"iso\s*\d+|en\s*iso|directive\s*\d+|r[eè]glement\s*\(?ue\)?\s*\d+|regulation\s*\(?eu\)?\s*\d+)\b"
    r"|\b\d{4}\s*[/-]\s*\d{1,4}\b"      # 2017/745, 2021-3, 2023/607
    r"|\b\d+\s*\(\d+[a-z]?\)"            # 10(9), 120(3c)
)


def norm(text):
    return re.sub(r"\s+", " ", text).strip()


def superseded_quote(path, quote):
    """Whether the quote lies in a passage the product refuses as superseded law (never retrieved)."""
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    from pathlib import Path

    from assistant.knowledge.sources import chunks_of_file
    from assistant.knowledge.superseded import superseded

    return any(norm(quote).lower() in norm(c.text).lower() for c in chunks_of_file(Path(path)) if superseded(c.text))


def main(argv):
    gold, ref = DEFAULT_GOLD, DEFAULT_REF
    args = list(argv)
    if "--ref" in args:
        i = args.index("--ref")
        ref = args[i + 1]
        del args[i:i + 2]
    if args:
        gold = args[0]

    errors = []
    try:
        with open(gold, encoding="utf-8") as fh:
            items = yaml.safe_load(fh)
    except Exception as exc:  # noqa: BLE001
        print(f"FAIL: cannot load {gold}: {exc}")
        return 2
    if not isinstance(items, list):
        print("FAIL: top level is not a list")
        return 2

    cache = {}
    ids = Counter()
    per_file = Counter()
    for n, it in enumerate(items):
        where = it.get("id", f"#{n}") if isinstance(it, dict) else f"#{n}"
        if not isinstance(it, dict):
            errors.append(f"{where}: item is not a mapping")
            continue
        for field in ("id", "q", "lang", "kind", "paraphrase", "split", "expected"):
            if field not in it:
                errors.append(f"{where}: missing field {field}")
        ids[it.get("id")] += 1
        if not isinstance(it.get("q"), str) or not it.get("q", "").strip():
            errors.append(f"{where}: empty q")
        if it.get("lang") not in ("en", "fr"):
            errors.append(f"{where}: bad lang {it.get('lang')!r}")
        if it.get("kind") not in ("article", "guidance"):
            errors.append(f"{where}: bad kind {it.get('kind')!r}")
        if not isinstance(it.get("paraphrase"), bool):
            errors.append(f"{where}: paraphrase must be true/false")
        if it.get("split") not in ("train", "validation"):
            errors.append(f"{where}: bad split {it.get('split')!r}")
        if it.get("paraphrase") is True and isinstance(it.get("q"), str):
            m = FORBIDDEN_IN_PARAPHRASE.search(it["q"])
            if m:
                errors.append(f"{where}: paraphrase question names a reference: {m.group(0)!r}")
        exp = it.get("expected")
        if not isinstance(exp, list) or not exp:
            errors.append(f"{where}: expected must be a non-empty list")
            continue
        files_here = set()
        kinds_here = set()
        for e in exp:
            if not isinstance(e, dict) or not all(k in e for k in ("file", "section", "quote")):
                errors.append(f"{where}: expected entry needs file, section, quote")
                continue
            rel = e["file"]
            files_here.add(rel)
            kinds_here.add("article" if rel.startswith("01-regulation/") else "guidance")
            path = os.path.join(ref, rel)
            if not os.path.isfile(path):
                errors.append(f"{where}: file not found: {rel}")
                continue
            if not str(e["section"]).strip():
                errors.append(f"{where}: empty section for {rel}")
            quote = str(e["quote"])
            nwords = len(quote.split())
            if not QUOTE_WORDS[0] <= nwords <= QUOTE_WORDS[1]:
                errors.append(f"{where}: quote has {nwords} words (want {QUOTE_WORDS[0]}-{QUOTE_WORDS[1]}): {quote!r}")
            if path not in cache:
                with open(path, encoding="utf-8") as fh:
                    cache[path] = norm(fh.read())
            if norm(quote) not in cache[path]:
                errors.append(f"{where}: quote not found in {rel}: {quote!r}")
            elif superseded_quote(path, quote):
                errors.append(f"{where}: quote in superseded wording, not indexed: {rel}: {quote!r}")
        for rel in files_here:
            per_file[rel] += 1
        # `amended`: a question on an article whose 2017 text is superseded and not indexed (MDR
        # Art. 120(2)-(4), IVDR Art. 110(2)-(4)): the guidance quoting the amended article answers it.
        if it.get("kind") in ("article", "guidance") and it["kind"] not in kinds_here and not it.get("amended"):
            errors.append(f"{where}: kind {it['kind']} but no expected file of that kind")

    for i, c in ids.items():
        if c > 1:
            errors.append(f"duplicate id {i!r} ({c} times)")
    for rel, c in per_file.items():
        if c > MAX_ITEMS_PER_FILE:
            errors.append(f"file answers {c} items (max {MAX_ITEMS_PER_FILE}): {rel}")

    # Split rule: within each (lang, kind, paraphrase) stratum, in id order, k=1.. ; validation iff k%5 in {1,3}
    strata = {}
    for it in sorted((x for x in items if isinstance(x, dict)), key=lambda x: str(x.get("id"))):
        key = (it.get("lang"), it.get("kind"), it.get("paraphrase"))
        strata[key] = strata.get(key, 0) + 1
        want = "validation" if strata[key] % 5 in (1, 3) else "train"
        if it.get("split") != want:
            errors.append(f"{it.get('id')}: split {it.get('split')} but rule says {want}")

    # Composition
    valid = [x for x in items if isinstance(x, dict)]
    total = len(valid)
    by_lang = Counter(x.get("lang") for x in valid)
    by_kind = Counter(x.get("kind") for x in valid)
    by_para = Counter(x.get("paraphrase") for x in valid)
    by_split = Counter(x.get("split") for x in valid)
    if total < MIN_ITEMS:
        errors.append(f"only {total} items (min {MIN_ITEMS})")
    for k in ("article", "guidance"):
        if by_kind[k] < MIN_PER_KIND:
            errors.append(f"kind {k}: {by_kind[k]} items (min {MIN_PER_KIND})")
    if total and not LANG_SHARE_RANGE[0] <= by_lang["fr"] / total <= LANG_SHARE_RANGE[1]:
        errors.append(f"French share {by_lang['fr']}/{total} outside {LANG_SHARE_RANGE}")
    if by_para[True] < MIN_PARAPHRASE_FRACTION * total:
        errors.append(f"paraphrase items {by_para[True]} < one third of {total}")
    if total and not VALIDATION_SHARE_RANGE[0] <= by_split["validation"] / total <= VALIDATION_SHARE_RANGE[1]:
        errors.append(f"validation share {by_split['validation']}/{total} outside {VALIDATION_SHARE_RANGE}")
    for split in ("train", "validation"):
        sub = [x for x in valid if x.get("split") == split]
        for field, values in (("lang", ("en", "fr")), ("kind", ("article", "guidance")), ("paraphrase", (True, False))):
            have = {x.get(field) for x in sub}
            for v in values:
                if v not in have:
                    errors.append(f"split {split} has no item with {field}={v}")

    # Report
    print(f"gold file : {gold}")
    print(f"reference : {ref}")
    print(f"items     : {total}   distinct answering files: {len(per_file)}   max items per file: {max(per_file.values()) if per_file else 0}")
    print("lang      : " + "  ".join(f"{k}={by_lang[k]}" for k in ("en", "fr")))
    print("kind      : " + "  ".join(f"{k}={by_kind[k]}" for k in ("article", "guidance")))
    print(f"paraphrase: true={by_para[True]}  false={by_para[False]}  ({by_para[True] / total:.0%} true)" if total else "")
    print(f"split     : train={by_split['train']}  validation={by_split['validation']}  ({by_split['validation'] / total:.0%} validation)" if total else "")
    print()
    header = f"{'split':<11}{'lang':<6}{'kind':<10}{'para':<7}{'n':>4}"
    print(header)
    print("-" * len(header))
    table = Counter((x.get("split"), x.get("lang"), x.get("kind"), x.get("paraphrase")) for x in valid)
    for key in sorted(table, key=lambda k: (str(k[0]), str(k[1]), str(k[2]), str(k[3]))):
        split, lang, kind, para = key
        print(f"{split:<11}{lang:<6}{kind:<10}{str(para).lower():<7}{table[key]:>4}")
    print()
    if errors:
        print(f"FAIL: {len(errors)} problem(s)")
        for e in errors:
            print("  - " + e)
        return 1
    print("OK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
