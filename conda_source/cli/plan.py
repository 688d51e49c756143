"""``conda-source plan``: show which conda specs a project maps to, and why."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from conda_source.cli.common import add_extras_option, add_group_option, add_mapping_options, parse_extras
from conda_source.cli.invocation import Invocation

if TYPE_CHECKING:
    from conda_source.engine.plan import Plan, PlanRequest
    from conda_source.mapping.requirements import MappedRequirement

SUMMARY = "Show the conda specs a project's requirements map to, and why (touches nothing)."
EXAMPLES = """examples:
  conda-source plan .                              # the active conda environment
  conda-source plan . -p ./env --extras test       # probe the env at ./env
  conda-source plan '.[docs]' --group dev          # an extra and a PEP 735 group
  conda-source plan . --python 3.12 --platform osx-arm64
  conda-source plan . --map torch=pytorch-cpu --json
  conda-source plan . --map 'dep:generic/openssl=openssl >=3'   # a PEP 725 [external] DepURL
"""


def add_options(parser: argparse.ArgumentParser) -> None:
    from conda_source.target import SUBDIRS

    parser.add_argument("path", nargs="?", default=".", help="project directory, optionally with extras: 'DIR[a,b]'")
    target = parser.add_argument_group("target environment")
    target.add_argument(
        "-p", "--prefix", dest="target_prefix", metavar="PREFIX", type=Path, help="probe the environment at PREFIX"
    )
    target.add_argument(
        "-n", "--name", dest="target_name", metavar="NAME", help="probe the conda environment called NAME"
    )
    target.add_argument("--python", dest="target_python", metavar="X.Y", help="describe a target python instead")
    target.add_argument("--platform", dest="target_platform", choices=SUBDIRS, help="with --python: its conda subdir")
    add_extras_option(parser, "project extras to include")
    add_group_option(parser)
    add_mapping_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def to_request(args: argparse.Namespace, invocation: Invocation) -> PlanRequest:
    from conda_source.engine.plan import PlanRequest
    from conda_source.path_extras import split_path_extras
    from conda_source.target import resolve_target

    path, path_extras = split_path_extras(args.path)
    target = resolve_target(invocation.prefix, args.target_python, args.target_platform, os.environ, invocation.name)
    return PlanRequest(path, target, parse_extras(args.extras, path_extras), tuple(args.group), invocation.overrides)


def execute(request: PlanRequest, invocation: Invocation) -> Plan:
    from conda_source.engine.plan import plan

    return plan(request)


def render(result: Plan) -> str:
    project = result.project
    name = project.name or "(name from backend)"
    version = project.version or "(version from backend)"
    lines = [
        f"Project  {name} {version}  ({project.file})",
        f"Backend  {project.build_system.backend}" + ("  (PEP 517 default)" if project.build_system.legacy else ""),
        f"Target   {result.target.describe()}" + (f" in {result.prefix}" if result.prefix else ""),
    ]
    if result.extras or result.groups:
        lines.append(f"Extras   {', '.join(result.extras) or '-'}   Groups  {', '.join(result.groups) or '-'}")
    rows = [("Build requirements", result.build), ("Runtime requirements", result.run)]
    width = max((len(item.requirement) for _, items in rows for item in items), default=0) + 2
    spec_width = max((len(", ".join(item.specs)) for _, items in rows for item in items), default=0) + 2
    for title, items in rows:
        lines += ["", title]
        lines += [_row(item, width, spec_width) for item in items] or ["  (none)"]
    if result.notes:
        lines += ["", "Notes"] + [f"  {requirement}: {note}" for requirement, note in result.notes]
    if result.deferred:
        lines += ["", "Deferred to the build backend"] + [f"  {item}" for item in result.deferred]
    lines += ["", f"Conda specs ({len(result.specs)})"] + [f"  {spec}" for spec in result.specs]
    return "\n".join(lines)


def _row(item: MappedRequirement, width: int, spec_width: int) -> str:
    # A DepURL does not say which [external] list it came from (build, host, an extra, a group).
    where = f"  ({item.origin})" if item.origin.startswith("external.") else ""
    if item.dropped is not None:
        return f"  {item.requirement:<{width}}dropped: {item.dropped}{where}"
    if not item.specs:
        return f"  {item.requirement:<{width}}this project: includes its extras {', '.join(item.expands) or '(none)'}"
    why = " + ".join(str(p) for p in item.provenance)
    return f"  {item.requirement:<{width}}{', '.join(item.specs):<{spec_width}}{why}{where}"
