"""Print the line coverage of each package under app/ from the .coverage file that
`make test` (pytest --cov=app) leaves, lowest first, then the total.

Modules no test imported count with all their lines missed."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "app"
SKIPPED = {"static", "templates"}


def package_of(path: Path) -> str:
    return ".".join(path.parent.relative_to(ROOT).parts)


def line_counts() -> dict[str, list[int]]:
    """Package name -> [statements, missed]."""
    measured = coverage.Coverage(data_file=str(ROOT / ".coverage"))
    measured.load()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path in sorted(SOURCE.rglob("*.py")):
        if SKIPPED & set(path.relative_to(SOURCE).parts):
            continue
        _name, statements, _excluded, missing, _text = measured.analysis2(str(path))
        counts[package_of(path)][0] += len(statements)
        counts[package_of(path)][1] += len(missing)
    return counts


def percent(statements: int, missed: int) -> float:
    return 100.0 * (statements - missed) / statements if statements else 100.0


def main() -> int:
    if not (ROOT / ".coverage").exists():
        print("No .coverage file: run pytest with --cov=app first.", file=sys.stderr)
        return 2
    counts = line_counts()
    width = max(map(len, counts))
    print(f"\n{'Package':<{width}}  Lines  Missed  Covered")
    measured = {name: count for name, count in counts.items() if count[0]}
    for package, (statements, missed) in sorted(measured.items(), key=lambda i: percent(*i[1])):
        print(row(package, statements, missed, width))
    statements = sum(count[0] for count in counts.values())
    missed = sum(count[1] for count in counts.values())
    print(row("TOTAL", statements, missed, width))
    return 0


def row(name: str, statements: int, missed: int, width: int) -> str:
    return f"{name:<{width}}  {statements:>5}  {missed:>6}  {percent(statements, missed):6.1f}%"


if __name__ == "__main__":
    sys.exit(main())
