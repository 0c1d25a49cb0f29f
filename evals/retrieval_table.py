"""The README's table of retrieval quality, from evals/results/retrieval_gold.json (written by
evals/retrieval_gold.py): recall@5 / MRR per language, kind and question form, each variant beside
the naive baseline of the same run.

    python evals/retrieval_table.py
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "retrieval_gold.json"
COLUMNS = ["all", "en", "fr", "article", "guidance", "paraphrase", "direct"]


def main() -> None:
    data = json.loads(RESULTS.read_text(encoding="utf-8"))
    first = next(iter(data["results"].values()))
    print("| recall@5 / MRR | " + " | ".join(f"{c} ({first[c]['n']})" for c in COLUMNS) + " | passage r@5 |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    for name, res in data["results"].items():
        cells = " | ".join(f"{res[c]['recall@5']:.3f} / {res[c]['mrr']:.3f}" for c in COLUMNS)
        bold = "**" if name.startswith("product") else ""
        print(f"| {bold}{name}{bold} | {cells} | {res['all']['passage_recall@5']:.3f} |")
    print(f"\nsplit {data['split']}, {data['items']} questions; {data['files']} files, {data['product_chunks']} chunks; "
          f"settings {data['settings']}")


if __name__ == "__main__":
    main()
