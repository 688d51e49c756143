"""Regenerate conda_source/mapping/data/external-to-conda.tsv from the PEP 804 conda-forge mapping.

Usage::

    python tools/regen_external.py PATH/TO/conda-forge.mapping.json "SOURCE DESCRIPTION" [PATH/TO/registry.json]

The input is the external-metadata-mappings project's ``data/conda-forge.mapping.json``
(PEP 804's mapping for the conda-forge ecosystem): a ``mappings`` list whose entries
carry a DepURL ``id`` and either ``specs`` (a string, a list, or a ``{build, host, run}``
table) or ``specs_from`` (another id whose specs it reuses).  The optional
``registry.json`` of the same project adds aliases: an id that ``provides`` exactly one
mapped id gets that id's row.

One id may have several entries (``dep:generic/libffi``: ``libffi``, then the msys2 and
m2w64 repackagings); the first entry whose specs are installable conda specs wins.
Entries holding recipe templates (``{{ compiler('c') }}``) or anything py-rattler's strict
MatchSpec parser rejects are skipped.  An id whose entries list no package at all is kept
with every role '-', so conda-source can say that conda-forge has nothing for it.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from rattler import MatchSpec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conda_source.mapping.depurl import DepURL, InvalidDepURL
from conda_source.mapping.external import ROLES

OUTPUT = Path(__file__).resolve().parents[1] / "conda_source" / "mapping" / "data" / "external-to-conda.tsv"

Row = tuple[str, str, str, str, str]  # key, build, host, run, origin


def role_specs(specs: object) -> dict[str, list[str]] | None:
    """The specs per role, or ``None`` when the entry is no installable conda spec."""
    if isinstance(specs, str):
        specs = [specs]
    if isinstance(specs, list):
        specs = dict.fromkeys(ROLES, specs)
    if not isinstance(specs, dict) or set(specs) != set(ROLES):
        return None
    roles = {role: [specs[role]] if isinstance(specs[role], str) else list(specs[role]) for role in ROLES}
    for spec in (spec for role in roles.values() for spec in role):
        if "{{" in spec:
            return None
        try:
            MatchSpec(spec, strict=True)
        except Exception:  # rattler raises its own exception types
            return None
    return roles


def build_rows(mapping: dict[str, Any], registry: dict[str, Any] | None = None) -> list[Row]:
    entries = mapping["mappings"]
    specs_by_id = {entry["id"]: entry["specs"] for entry in entries if "specs" in entry}
    chosen: dict[str, Row] = {}
    empty: dict[str, Row] = {}
    for entry in entries:
        try:
            key = DepURL.parse(entry["id"]).key
        except InvalidDepURL as exc:
            print(f"skipped: {exc}", file=sys.stderr)
            continue
        specs = entry["specs"] if "specs" in entry else specs_by_id.get(entry["specs_from"])
        roles = role_specs(specs)
        if key in chosen or roles is None:
            continue
        row = (key, *(_column(roles[role]) for role in ROLES), "conda-forge")
        if any(roles.values()):
            chosen[key] = row  # type: ignore[assignment]
        else:
            empty.setdefault(key, row)  # type: ignore[arg-type]
    rows = {**empty, **chosen}
    for definition in (registry or {}).get("definitions", []):
        provides = definition.get("provides")
        if not isinstance(provides, str) or "?" in definition["id"]:
            continue  # several provided ids are no alias; qualifiers do not take part in lookups
        alias, target = DepURL.parse(definition["id"]).key, DepURL.parse(provides).key
        if alias not in rows and target in rows:
            rows[alias] = (alias, *rows[target][1:4], f"registry alias of {target}")  # type: ignore[assignment]
    return sorted(rows.values())


def _column(specs: list[str]) -> str:
    return "; ".join(specs) if specs else "-"


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    mapping = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    registry = json.loads(Path(argv[3]).read_text(encoding="utf-8")) if len(argv) == 4 else None
    rows = build_rows(mapping, registry)
    header = [
        "# PEP 725 DepURL -> conda spec(s) for each role, from the PEP 804 mapping for conda-forge.",
        "# Columns: DepURL key (lowercase, no version), build, host and run specs separated by '; ',",
        "# origin.  '-': the role needs nothing; '-' in all three roles: conda-forge has no package.",
        f"# source: external-metadata-mappings data/conda-forge.mapping.json ({len(mapping['mappings'])} entries),"
        f" via {argv[2]}",
    ]
    if registry is not None:
        header.append(
            f"# source: external-metadata-mappings data/registry.json ({len(registry['definitions'])} definitions),"
            " for aliases"
        )
    header.append(f"# generated: {date.today().isoformat()} by tools/regen_external.py")
    body = ["\t".join(row) for row in rows]
    OUTPUT.write_text("\n".join(header + body) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} entries to {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
