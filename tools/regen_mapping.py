"""Regenerate conda_source/mapping/data/pypi-to-conda.tsv from a downloaded mapping.

Usage::

    python tools/regen_mapping.py PATH/TO/grayskull_pypi_mapping.json "SOURCE DESCRIPTION" \
        [--second PATH/TO/compressed_mapping.json "SOURCE DESCRIPTION"]

The input is regro/cf-graph-countyfair's ``mappings/pypi/grayskull_pypi_mapping.json``
(conda-forge's PyPI -> conda mapping): an object keyed by PyPI name whose values carry
``pypi_name`` and ``conda_name``.  Any copy will do: the file in that repository, or the
copy some tools bundle (conda-pypi ships one as ``conda_pypi/grayskull_pypi_mapping.json``).

Only names whose conda name differs from the identity rule are kept, so the table
stays small.  Entries in ``STATIC`` below are conda-source's own, for cases cf-graph
cannot express (a version window, or several conda packages for one PyPI name); they
win over cf-graph.  Name families (one wheel per CUDA major, ...) are patterns, in
``data/pypi-to-conda-patterns.tsv``, written by hand.

With ``--second``, the rows are compared with prefix-dev/parselmouth's conda-forge mapping
(see tools/compare_mapping.py): the names it decides to adopt become rows with origin
``parselmouth``, and the comparison is written to ``data/DISAGREEMENTS.md``.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from packaging.utils import canonicalize_name

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conda_source.mapping.names import identity_name

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_mapping

OUTPUT = Path(__file__).resolve().parents[1] / "conda_source" / "mapping" / "data" / "pypi-to-conda.tsv"

# PyPI name -> conda specs.  Each needs a reason a reader can check.
STATIC: dict[str, list[str]] = {
    # PyQt's wheels are split by major version; conda-forge has one pyqt package.
    "pyqt4": ["pyqt >=4,<5"],
    "pyqt5": ["pyqt >=5,<6"],
    # The -binary wheel bundles libpq; conda-forge's psycopg2 links the conda one.
    "psycopg2-binary": ["psycopg2"],
    "psycopg-binary": ["psycopg"],
}


def build_rows(mapping: dict[str, dict[str, str]]) -> list[tuple[str, str, str]]:
    rows: dict[str, tuple[str, str, str]] = {}
    for entry in mapping.values():
        pypi = canonicalize_name(entry["pypi_name"])
        conda = entry["conda_name"]
        if conda != identity_name(pypi):
            rows[pypi] = (pypi, conda, "cf-graph")
    for name, specs in STATIC.items():
        rows[canonicalize_name(name)] = (canonicalize_name(name), "; ".join(specs), "conda-source")
    return sorted(rows.values())


def adopt(
    rows: list[tuple[str, str, str]], disagreements: list[compare_mapping.Disagreement]
) -> list[tuple[str, str, str]]:
    """``rows`` with each adopted name of the comparison written in (origin ``parselmouth``)."""
    merged = {pypi: (pypi, specs, origin) for pypi, specs, origin in rows}
    for d in disagreements:
        if d.decision == "adopt":
            merged[d.pypi] = (d.pypi, d.chosen, "parselmouth")
    return sorted(merged.values())


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 6) or (len(argv) == 6 and argv[3] != "--second"):
        print(__doc__, file=sys.stderr)
        return 2
    source_path, source_description = Path(argv[1]), argv[2]
    mapping = json.loads(source_path.read_text(encoding="utf-8"))
    rows = build_rows(mapping)
    today = date.today().isoformat()
    header = [
        "# PyPI name -> conda spec(s), only where the conda name differs from the identity rule",
        "# (lowercase, '_' -> '-', dots kept).  Columns: canonical PyPI name, conda specs",
        "# separated by '; ', origin (cf-graph, parselmouth or conda-source).",
        "# source: regro/cf-graph-countyfair mappings/pypi/grayskull_pypi_mapping.json"
        f" ({len(mapping)} entries), via {source_description}",
    ]
    if len(argv) == 6:
        second = compare_mapping.load_second_source(Path(argv[4]))
        base = {pypi: (specs, origin) for pypi, specs, origin in rows}
        disagreements = compare_mapping.write_report(base, today, second, argv[5])
        rows = adopt(rows, disagreements)
        header.append(f"# source: {argv[5]}, the names tools/compare_mapping.py adopted (see DISAGREEMENTS.md)")
    header += [
        "# source: conda-source static entries (tools/regen_mapping.py STATIC)",
        f"# generated: {today} by tools/regen_mapping.py",
    ]
    body = ["\t".join(row) for row in rows]
    OUTPUT.write_text("\n".join(header + body) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} entries to {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
