"""The adversarial model replies of evals/ (issue 12) played through the product: no lie gets through,
no honest reply is refused. The figures of the README come from the same function."""

import importlib.util
from pathlib import Path

import yaml

EVALS = Path(__file__).resolve().parents[2] / "evals"


def _module():
    spec = importlib.util.spec_from_file_location("grounding_eval", EVALS / "grounding_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_lie_of_the_adversarial_set_is_recorded_and_every_honest_reply_is_accepted():
    module = _module()
    items = yaml.safe_load(module.DATA.read_text(encoding="utf-8"))
    result = module.evaluate(items)
    assert result["lies"] >= 50 and result["honest"] >= 15
    assert result["draft_lies_recorded"] == 0
    assert result["missed"] == []  # every lie caught (drafts, proposals, follow-ups), every control accepted
