"""The installed package (a wheel, not the checkout) carries its data: the profiles, the access
rules, the product's words, the knowledge notes (top-level corpus/) and the prompts (top-level prompts/),
and the app."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from conftest import ROOT


def test_every_package_folder_is_declared_in_pyproject():
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("assistant", "ui") for p in (ROOT / top).rglob("__init__.py")
    }
    assert found <= declared, f"not declared in pyproject.toml: {sorted(found - declared)}"


def test_a_wheel_installed_elsewhere_finds_notes_prompts_profiles_and_the_app(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(tmp_path.glob("*.whl"))
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import assistant.llm.prompts as p, assistant.knowledge.sources as s, assistant.case.profile as pr, "
        "assistant.config as c, assistant.words as w\n"
        "print(p.prompt_dir()); print(len(list(s.NOTES_DIR.rglob('*.md')))); print(pr.load_profile('ansm').id)\n"
        "print((c.package_folder('ui') / 'app.py').is_file()); print(w.WORDS_FILE.is_relative_to(c.package_folder('assistant')))\n"
        "from assistant.drafting.content import rules_of; print(bool(rules_of('ansm').get('rules')))"
    )
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    prompts, notes, profile, app, words, consistency = out.stdout.split()
    assert consistency == "True"  # the consistency rules beside the profile ship with the wheel
    assert Path(prompts).is_relative_to(site) and (Path(prompts) / "draft_section.md").is_file()
    assert int(notes) == len(list((ROOT / "corpus" / "notes").rglob("*.md")))
    assert profile == "ansm" and app == "True" and words == "True"
