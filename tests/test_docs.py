"""The documents an IT team and an auditor read agree with the code: every relative link and
image resolves, the settings table is current, every ``CASEASSIST_`` name is a setting (or is
listed as read by the scripts or the compose file), and every ``caseassist`` command and flag
the documents give exists."""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path
from types import ModuleType

from assistant.cli import _parser
from assistant.settings import NOT_SETTINGS, Settings

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```", re.S | re.M)


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _documents() -> list[Path]:
    """What a newcomer, an IT team or an auditor reads, and the deployment files."""
    files = [ROOT / "README.md", ROOT / "MODEL_CARD.md", ROOT / "Dockerfile"]
    files += sorted((ROOT / "docs").rglob("*.md"))
    files += sorted(p for p in (ROOT / "deploy").rglob("*") if p.is_file())  # systemd/ too
    files += sorted((ROOT / "scripts").glob("*.sh"))
    files += [ROOT / "eval" / "results" / "README.md"]
    return files


def test_every_relative_link_and_image_resolves():
    check_links = _load("check_links")
    assert check_links.LINK.findall("![the review page](docs/img/review.png)") == [
        "docs/img/review.png"
    ]
    problems = [p for md in _documents() if md.suffix == ".md" for p in check_links.broken(md)]
    assert problems == []


def test_the_settings_table_is_current_and_every_setting_is_described():
    settings_table = _load("settings_table")
    undescribed = [name for name, f in Settings.model_fields.items() if not f.description]
    assert undescribed == []
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    start = text.index(settings_table.START) + len(settings_table.START)
    assert text[start : text.index(settings_table.END)].strip() == settings_table.table()


def test_every_caseassist_variable_named_is_a_setting_or_listed_as_not_one():
    settings = {f"CASEASSIST_{name.upper()}" for name in Settings.model_fields}
    config = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    not_settings = config[config.index("## Read by the scripts") :]
    listed = set(re.findall(r"^\| `(CASEASSIST_[A-Z0-9_]+)`", not_settings, re.M))
    assert listed and not listed & settings
    assert listed == NOT_SETTINGS  # what the service does not warn of
    unknown = {}
    for path in _documents():
        for name in re.findall(r"CASEASSIST_[A-Z0-9_]*[A-Z0-9]\b", path.read_text("utf-8")):
            if name not in settings | listed:
                unknown.setdefault(name, path.relative_to(ROOT).as_posix())
    assert unknown == {}


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[str]:
    subs = _subcommands(parser)
    if not subs:
        return [" ".join(path)]
    return [leaf for name, sub in subs.items() for leaf in _leaves(sub, (*path, name))]


def _resolve(words: list[str]) -> tuple[list[str], argparse.ArgumentParser, str | None]:
    """The command path words name, its parser, and the word that names no command (if any):
    ``models install|verify`` counts as both."""
    parser, path = _parser(), []
    for word in words:
        subs = _subcommands(parser)
        if not subs:
            break
        names = word.split("|")
        if not all(n in subs for n in names):
            return path, parser, word
        parser, path = subs[names[0]], [*path, names[0]]
    return path, parser, None


def _commands(text: str) -> list[list[str]]:
    """Each ``caseassist ...`` command in the text, as its words."""
    text = re.sub(r"\\\n\s*", " ", text)
    return [m.split() for m in re.findall(r"(?<![\w/.-])caseassist((?: +[^\s`#]+)+)", text)]


def test_every_documented_command_and_flag_exists():
    sources = list(_documents())
    sources += list((ROOT / "assistant").rglob("*.py"))  # migrations' messages too
    problems = []
    for path in sources:
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT).as_posix()
        # in prose: `caseassist X Y` names a command
        for words in re.findall(r"`caseassist ((?:[a-z][a-z|-]* ?)+)", text):
            _, _, bad = _resolve(words.split())
            if bad is not None:
                problems.append(f"{where}: `caseassist {words.strip()}`: no command {bad!r}")
        # in code blocks, and in the scripts and deployment files: the flags too
        if path.suffix == ".py":
            continue
        blocks = FENCE.findall(text) if path.suffix == ".md" else [text]
        for block in blocks:
            for words in _commands(block):
                cmd, parser, bad = _resolve(words)
                if not cmd:
                    continue
                if bad is not None:
                    problems.append(f"{where}: caseassist {' '.join(words)}: no command {bad!r}")
                    continue
                known = {o for a in parser._actions for o in a.option_strings}
                for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", " ".join(words)):
                    if flag not in known:
                        problems.append(f"{where}: caseassist {' '.join(cmd)}: no flag {flag}")
    assert problems == []


def test_the_readme_names_every_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Command line") :]
    block = FENCE.search(section)
    assert block
    named = set()
    for words in _commands(block.group(1)):
        parser, path = _parser(), []
        for word in words:
            subs = _subcommands(parser)
            if not subs or not set(word.split("|")) <= set(subs):
                break
            for name in word.split("|"):
                named.add(" ".join([*path, name]))
            parser, path = subs[word.split("|")[0]], [*path, word.split("|")[0]]
    assert sorted(set(_leaves(_parser())) - named) == []
