"""Write the settings table of ``docs/configuration.md`` from ``assistant.settings.Settings``.

    python docs/settings_table.py           # rewrite the table between the markers
    python docs/settings_table.py --check   # exit 1 if the table is out of date

Run from the repository root (it imports ``assistant.settings``, which needs only pydantic and
pydantic-settings). The table is written from the class itself, so a field added, renamed or
redocumented in ``assistant/settings.py`` reaches the documentation by running this again;
only the text between ``<!-- settings:start -->`` and ``<!-- settings:end -->`` changes.
"""

from __future__ import annotations

import argparse
import sys
import typing
from pathlib import Path

from pydantic import BaseModel, SecretStr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import settings as settings_mod  # noqa: E402

DOC = ROOT / "docs" / "configuration.md"
START = "<!-- settings:start -->"
END = "<!-- settings:end -->"

# Fields settings.py leaves without a description (say so in the table, and fix them there).
MISSING: dict[str, str] = {}


def show_default(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Path):
        path = value
        for base, shown in (
            (settings_mod.PACKAGE_ROOT.parent, ""),
            (Path.home(), "~/"),
        ):
            if path.is_absolute() and path.is_relative_to(base):
                return f"`{shown}{path.relative_to(base).as_posix()}`"
        return f"`{path.as_posix()}`"
    return f"`{value}`"


def constraints(field) -> str:
    parts = []
    args = typing.get_args(field.annotation)
    if typing.get_origin(field.annotation) is typing.Literal:
        parts.append("One of " + ", ".join(f"`{a}`" for a in args) + ".")
    bounds = (("ge", "At least"), ("gt", "Above"), ("le", "At most"), ("lt", "Below"))
    for item in field.metadata:
        for name, words in bounds:
            bound = getattr(item, name, None)
            if bound is not None:
                parts.append(f"{words} {bound}.")
    return "".join(" " + part for part in parts)


def human(name: str, value: object) -> str:
    """A reader's unit beside a large number: bytes in MiB, seconds in hours."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    if name.endswith("_bytes") and value >= 2**20 and value % 2**20 == 0:
        return f" ({int(value) // 2**20} MiB)"
    if name.endswith("_s") and value >= 3600 and value % 3600 == 0:
        return f" ({int(value) // 3600} h)"
    return ""


def rows(model: type[BaseModel], env_prefix: str, delimiter: str) -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += rows(ann, f"{env_prefix}{name.upper()}{delimiter}", delimiter)
            continue
        text = " ".join((field.description or MISSING.get(name, "")).split())
        text += constraints(field)
        if not field.description:
            text += " *(not described in settings.py)*"
        value = field.get_default(call_default_factory=True)
        default = show_default(value) + human(name, value)
        env = f"{env_prefix}{name.upper()}"
        out.append(f"| `{name}` | `{env}` | {default} | {text.replace('|', chr(92) + '|')} |")
    return out


def table() -> str:
    cls = settings_mod.Settings
    prefix = cls.model_config.get("env_prefix", "")
    delimiter = cls.model_config.get("env_nested_delimiter") or "__"
    head = ["| setting | environment variable | default | what it does |", "|---|---|---|---|"]
    return "\n".join(head + rows(cls, prefix, delimiter))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    args = parser.parse_args()
    text = DOC.read_text(encoding="utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        sys.exit(f"{DOC} must contain {START} followed by {END}")
    new = text[: start + len(START)] + "\n" + table() + "\n" + text[end:]
    if args.check:
        if new != text:
            print(f"{DOC.relative_to(ROOT)} is out of date: run python docs/settings_table.py")
            return 1
        return 0
    if new != text:
        DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
