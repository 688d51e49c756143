"""Compare the bundled PyPI -> conda mapping with a second public source, and decide each disagreement.

Usage::

    python tools/compare_mapping.py PATH/TO/compressed_mapping.json "SOURCE DESCRIPTION"

The second source is prefix-dev/parselmouth's ``files/v0/conda-forge/compressed_mapping.json``,
the mapping pixi uses: an object keyed by every conda-forge package name, whose value lists the
PyPI names whose dist-info that package ships (``null`` when it ships none).  parselmouth reads
the artifacts themselves, so it knows packages cf-graph never listed; cf-graph knows which of
several packages shipping a name is the one to install.

Our answer for a PyPI name is the bundled table's cf-graph and conda-source rows, then the
bundled patterns, then the identity rule; rows this comparison adopted (origin ``parselmouth``)
are left out, so the report does not depend on whether the table was regenerated yet.  Each
PyPI name the second source knows whose conda package is not among those shipping it is a
disagreement, decided by the rules in ``decide`` or by hand in ``HAND``.  The report goes to
``conda_source/mapping/data/DISAGREEMENTS.md``; ``tools/regen_mapping.py --second`` applies the
same decisions to the table.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from packaging.utils import canonicalize_name

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conda_source.mapping.names import PATTERNS_RESOURCE, PatternEntry, bundled_table, identity_name

DATA = Path(__file__).resolve().parents[1] / "conda_source" / "mapping" / "data"
REPORT = DATA / "DISAGREEMENTS.md"

# PyPI names some artifacts carry in broken metadata; no project is called that.
JUNK = frozenset({"unknown", "placeholder"})

# Suffixes of conda-forge split outputs: "X" is the whole package, "X-base" or "X-core" the part
# without optional extras, "X-static" and "X-mini" reduced builds.  When the identity package
# exists and only such a part or build ships the dist-info, the identity package is the better answer.
PART_SUFFIXES = ("-base", "-core", "-static", "-mini")

# Decided by hand: PyPI name -> (the conda name to use, or None to keep ours; why).
HAND: dict[str, tuple[str | None, str]] = {
    "opencv-python": (
        None,
        "conda-forge's opencv is the metapackage that installs py-opencv and libopencv, the two packages listed",
    ),
    "opencv-python-headless": (
        None,
        "conda-forge's OpenCV comes from the opencv feedstock, whose headless builds are a variant of opencv; "
        "the separate opencv-python-headless package listed could not be traced to a feedstock",
    ),
    "psycopg2-binary": (
        None,
        "the -binary wheel is psycopg2 with libpq bundled; conda-forge's psycopg2 links conda's libpq "
        "(cf-graph and DESIGN.md agree); the psycopg2-binary package listed installs the same module",
    ),
    "ninja": (
        None,
        "the wheel ships the ninja executable, which conda-forge's ninja is; ninja-python adds only dist-info",
    ),
    "uv": (None, "the wheel ships the uv executable, which conda-forge's uv is"),
    "taplo": (None, "the wheel ships the taplo executable, which conda-forge's taplo is"),
    "tbb": (None, "the wheel ships the TBB runtime libraries, which conda-forge's tbb is; tbb4py is the Python module"),
    "openvino": (
        None,
        "conda-forge's openvino installs runtime, plugins and Python module, as the wheel does; "
        "libopenvino-python is one part",
    ),
    "oasis": (
        None,
        "three projects ship an 'oasis' distribution on conda-forge; which one the PyPI name is cannot be told "
        "from the names: map it with --map",
    ),
    "onnxruntime-gpu": (
        "onnxruntime",
        "conda-forge's onnxruntime has the CUDA builds; onnxruntime-novec is a build for CPUs without AVX",
    ),
}


@dataclass(frozen=True)
class SecondSource:
    packages: frozenset[str]  # every conda-forge package name
    ships: Mapping[str, frozenset[str]]  # conda package -> canonical PyPI names it ships
    shipped_by: Mapping[str, frozenset[str]]  # canonical PyPI name -> conda packages shipping it


def load_second_source(path: Path) -> SecondSource:
    raw = json.loads(path.read_text(encoding="utf-8"))
    ships = {conda: frozenset(canonicalize_name(p) for p in pypi or ()) for conda, pypi in raw.items()}
    shipped_by: dict[str, set[str]] = {}
    for conda, names in ships.items():
        for name in names:
            shipped_by.setdefault(name, set()).add(conda)
    return SecondSource(frozenset(raw), ships, {k: frozenset(v) for k, v in shipped_by.items()})


@dataclass(frozen=True)
class Disagreement:
    pypi: str
    ours: str  # our conda name (the first spec's name)
    how: str  # where our answer came from
    theirs: tuple[str, ...]  # conda-forge packages shipping the name, per the second source
    decision: str  # "adopt" or "keep"
    chosen: str  # the conda name the table uses after the decision
    reason: str
    by_hand: bool = False


def our_answer(
    pypi: str, rows: Mapping[str, tuple[str, str]], patterns: tuple[PatternEntry, ...]
) -> tuple[str, str, tuple[str, ...]]:
    """(first conda name, where it came from, every conda name) for a canonical PyPI name."""
    if pypi in rows:
        specs, origin = rows[pypi]
        names = tuple(spec.split()[0] for spec in specs.split(";"))
        return names[0], f"{origin} table", names
    for entry in patterns:
        expanded = entry.expand(pypi)
        if expanded is not None:
            names = tuple(spec.split()[0] for spec in expanded)
            return names[0], f"pattern {entry.pattern}", names
    return identity_name(pypi), "identity rule", (identity_name(pypi),)


def choose(pypi: str, theirs: frozenset[str], second: SecondSource) -> str | None:
    """The one package of ``theirs`` to install for ``pypi``, or None when that is ambiguous."""
    if len(theirs) == 1:
        return next(iter(theirs))
    bindings = {f"python-{pypi}", f"py-{pypi}", f"{pypi}-python", f"{pypi}-py"}
    for narrowed in (
        [c for c in theirs if canonicalize_name(c) == pypi],  # same name, other spelling
        [c for c in theirs if second.ships[c] == {pypi}],  # the one that ships only this
        [c for c in theirs if canonicalize_name(c) in bindings],  # conda-forge's name for Python bindings
    ):
        if len(narrowed) == 1:
            return narrowed[0]
    return None


def decide(pypi: str, ours: str, how: str, theirs: frozenset[str], second: SecondSource) -> Disagreement:
    listed = tuple(sorted(theirs))
    if pypi in HAND:
        name, why = HAND[pypi]
        decision = "keep" if name is None or name == ours else "adopt"
        return Disagreement(pypi, ours, how, listed, decision, name or ours, why, by_hand=True)
    candidate = choose(pypi, theirs, second)
    if candidate is None:
        return Disagreement(
            pypi, ours, how, listed, "keep", ours, "several packages ship it and none stands out: map it with --map"
        )
    if ours not in second.packages:
        return Disagreement(
            pypi, ours, how, listed, "adopt", candidate, f"{ours} is no conda-forge package; {candidate} ships {pypi}"
        )
    if candidate in (ours + "-base", ours + "-core"):
        return Disagreement(
            pypi, ours, how, listed, "keep", ours, f"{candidate} is a part of {ours}, which installs it"
        )
    if candidate in (ours + "-static", ours + "-mini"):
        return Disagreement(
            pypi, ours, how, listed, "keep", ours, f"{candidate} is a reduced build of {ours}, the full package"
        )
    if how != "identity rule":
        return Disagreement(
            pypi, ours, how, listed, "keep", ours, f"{ours} is a conda-forge package chosen by the table's source"
        )
    shipped = sorted(second.ships[ours])
    what = f"ships {', '.join(shipped)}" if shipped else "ships no Python distribution (a library or tool)"
    return Disagreement(
        pypi, ours, how, listed, "adopt", candidate, f"conda-forge's {ours} {what}; {candidate} ships {pypi}"
    )


def base_rows() -> dict[str, tuple[str, str]]:
    """The bundled table without the rows an earlier comparison adopted."""
    return {
        key: ("; ".join(specs), origin)
        for key, (specs, origin) in bundled_table().entries.items()
        if origin != "parselmouth"
    }


def compare(
    rows: Mapping[str, tuple[str, str]], patterns: tuple[PatternEntry, ...], second: SecondSource
) -> tuple[list[Disagreement], int]:
    """The disagreements, and how many PyPI names both sources answer."""
    disagreements: list[Disagreement] = []
    known = 0
    for pypi in sorted(second.shipped_by):
        if pypi in JUNK:
            continue
        known += 1
        ours, how, _ = our_answer(pypi, rows, patterns)
        theirs = second.shipped_by[pypi]
        if ours not in theirs:
            disagreements.append(decide(pypi, ours, how, theirs, second))
    return disagreements, known


def missing_names(
    rows: Mapping[str, tuple[str, str]], patterns: tuple[PatternEntry, ...], second: SecondSource
) -> list[tuple[str, str, str]]:
    """(PyPI name, where from, conda name) for every name ours produce that conda-forge lacks:
    table rows, and each pattern example."""
    found: list[tuple[str, str, str]] = []
    names = sorted(rows) + [example for entry in patterns for example in entry.examples]
    for pypi in names:
        _, how, conda_names = our_answer(pypi, rows, patterns)
        found.extend((pypi, how, name) for name in conda_names if name not in second.packages)
    return found


def render(
    disagreements: list[Disagreement],
    known: int,
    missing: list[tuple[str, str, str]],
    second: SecondSource,
    description: str,
    generated: str,
) -> str:
    table = bundled_table()
    adopted = [d for d in disagreements if d.decision == "adopt"]
    lines = [
        "# The bundled mapping against a second source",
        "",
        f"compared: {date.today().isoformat()} by tools/compare_mapping.py (do not edit; rerun it)",
        "",
        f"- ours: `pypi-to-conda.tsv` (cf-graph and conda-source rows, generated {generated}), "
        f"then `{PATTERNS_RESOURCE}` (written {table.patterns_written}), then the identity rule;",
        f"- second source: {description}: {len(second.packages)} conda-forge packages, "
        f"{len(second.shipped_by)} PyPI names whose dist-info one of them ships.",
        "",
        "A disagreement is a PyPI name whose conda package (ours) is not among the packages that ship its",
        "dist-info (theirs).  Each is decided: **adopt** theirs (`tools/regen_mapping.py --second` writes it",
        "to the table with origin `parselmouth`) or **keep** ours.  The rules, in order:",
        "",
        "1. decided by hand (first table below), with the reason;",
        "2. several packages ship it and none stands out (the same name in another spelling, else the one",
        "   package shipping only it, else conda-forge's name for Python bindings: python-X, py-X, X-python,",
        "   X-py): keep ours, and the user maps it;",
        "3. ours is no conda-forge package: adopt theirs;",
        f"4. theirs is a part or a reduced build of ours (ours + {', '.join(PART_SUFFIXES)}): keep ours;",
        "5. ours comes from the table (cf-graph chose among several packages): keep;",
        "6. ours comes from the identity rule and that conda-forge package ships some other distribution",
        "   or none (a C library or tool of the same name): adopt theirs.",
        "",
        "| | count |",
        "| --- | --- |",
        f"| PyPI names both sources answer | {known} |",
        f"| they agree | {known - len(disagreements)} |",
        f"| they disagree | {len(disagreements)} |",
        f"| adopted | {len(adopted)} |",
        f"| kept | {len(disagreements) - len(adopted)} |",
        "",
        "## Decided by hand",
        "",
        *_table([d for d in disagreements if d.by_hand]),
        "",
        "## Names ours produce that conda-forge does not have",
        "",
        "Table rows and pattern examples whose conda name is no conda-forge package.  A row here that the",
        "second source has no better answer for stays: the identity name is missing too.",
        "",
        "| PyPI name | from | conda name |",
        "| --- | --- | --- |",
        *(f"| {pypi} | {how} | {name} |" for pypi, how, name in missing),
        "",
        "## Decided by rule",
        "",
        *_table([d for d in disagreements if not d.by_hand]),
    ]
    return "\n".join(lines) + "\n"


def _table(rows: list[Disagreement]) -> list[str]:
    out = ["| PyPI name | ours | from | theirs | decision | why |", "| --- | --- | --- | --- | --- | --- |"]
    for d in rows:
        decision = f"adopt {d.chosen}" if d.decision == "adopt" else "keep"
        out.append(f"| {d.pypi} | {d.ours} | {d.how} | {', '.join(d.theirs)} | {decision} | {d.reason} |")
    return out


def write_report(
    rows: Mapping[str, tuple[str, str]], generated: str, second: SecondSource, description: str
) -> list[Disagreement]:
    """Compare ``rows`` (and the bundled patterns) with ``second``; write the report; return the decisions."""
    patterns = bundled_table().patterns
    disagreements, known = compare(rows, patterns, second)
    missing = missing_names(rows, patterns, second)
    REPORT.write_text(render(disagreements, known, missing, second, description, generated), encoding="utf-8")
    return disagreements


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    second = load_second_source(Path(argv[1]))
    disagreements = write_report(base_rows(), bundled_table().generated, second, argv[2])
    adopted = sum(1 for d in disagreements if d.decision == "adopt")
    print(f"wrote {len(disagreements)} disagreements ({adopted} adopted) to {REPORT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
