"""Regenerate conda_source/mapping/data/pypi-to-conda.tsv from a downloaded mapping.

Usage::

    python tools/regen_mapping.py PATH/TO/grayskull_pypi_mapping.json "SOURCE DESCRIPTION"

The input is regro/cf-graph-countyfair's ``mappings/pypi/grayskull_pypi_mapping.json``
(conda-forge's PyPI -> conda mapping): an object keyed by PyPI name whose values carry
``pypi_name`` and ``conda_name``.  Any copy will do: the file in that repository, or the
copy some tools bundle (conda-pypi ships one as ``conda_pypi/grayskull_pypi_mapping.json``).

Only names whose conda name differs from the identity rule are kept, so the table
stays small.  Entries in ``STATIC`` below are conda-source's own, for cases cf-graph
cannot express (a version window, or several conda packages for one PyPI name); they
win over cf-graph.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from packaging.utils import canonicalize_name

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conda_source.mapping.names import identity_name

OUTPUT = Path(__file__).resolve().parents[1] / "conda_source" / "mapping" / "data" / "pypi-to-conda.tsv"

# PyPI name -> conda specs.  Each needs a reason a reader can check.
STATIC: dict[str, list[str]] = {
    # PyQt's wheels are split by major version; conda-forge has one pyqt package.
    "pyqt4": ["pyqt >=4,<5"],
    "pyqt5": ["pyqt >=5,<6"],
    # CuPy's wheels are per CUDA major; conda-forge has one cupy, selected by cuda-version.
    "cupy-cuda11x": ["cupy", "cuda-version 11.*"],
    "cupy-cuda12x": ["cupy", "cuda-version 12.*"],
    "cupy-cuda13x": ["cupy", "cuda-version 13.*"],
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
    for pypi, specs in STATIC.items():
        rows[canonicalize_name(pypi)] = (canonicalize_name(pypi), "; ".join(specs), "conda-source")
    return sorted(rows.values())


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    source_path, source_description = Path(argv[1]), argv[2]
    mapping = json.loads(source_path.read_text(encoding="utf-8"))
    rows = build_rows(mapping)
    header = [
        "# PyPI name -> conda spec(s), only where the conda name differs from the identity rule",
        "# (lowercase, '_' -> '-', dots kept).  Columns: canonical PyPI name, conda specs",
        "# separated by '; ', origin (cf-graph or conda-source).",
        "# source: regro/cf-graph-countyfair mappings/pypi/grayskull_pypi_mapping.json"
        f" ({len(mapping)} entries), via {source_description}",
        "# source: conda-source static entries (tools/regen_mapping.py STATIC)",
        f"# generated: {date.today().isoformat()} by tools/regen_mapping.py",
    ]
    body = ["\t".join(row) for row in rows]
    OUTPUT.write_text("\n".join(header + body) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} entries to {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
