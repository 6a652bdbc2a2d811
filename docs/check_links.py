"""Check that every relative link and image in the README, the model card, the evaluation
results' README and docs/ resolves (tests/test_docs.py runs it).

    python docs/check_links.py    # prints each broken link; exit 1 if there is one

A link resolves when its file (or folder) exists relative to the Markdown file that holds it
and, if it names a heading (``file.md#some-heading``), that file has the heading, slugged the
way GitHub slugs headings. Links to web addresses are not followed.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# links and images alike: ``[text](target)`` and ``![alt](target)``
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)


def slug(heading: str) -> str:
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(h) for h in HEADING.findall(text)}


def broken(md: Path) -> list[str]:
    text = FENCE.sub("", md.read_text(encoding="utf-8"))
    out = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue
        name, _, fragment = target.partition("#")
        dest = (md.parent / name).resolve() if name else md
        if not dest.exists():
            out.append(f"{md.relative_to(ROOT)}: {target} (no such file)")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            out.append(f"{md.relative_to(ROOT)}: {target} (no such heading)")
    return out


def main() -> int:
    files = [
        ROOT / "README.md",
        ROOT / "MODEL_CARD.md",
        ROOT / "eval" / "results" / "README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
    ]
    problems = [p for md in files for p in broken(md)]
    for p in problems:
        print(p)
    print(f"{len(files)} files checked, {len(problems)} broken links")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
