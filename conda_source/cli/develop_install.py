"""``conda-source develop-install``: checkouts into a conda environment, editable, recorded for conda."""

from __future__ import annotations

import argparse
import json
import os
import sys

from conda_source.cli.common import add_target_options
from conda_source.cli.plan import render as render_plan
from conda_source.engine.develop_install import DevelopRequest, DevelopResult, develop_install, develop_uninstall
from conda_source.engine.plan import split_path_extras
from conda_source.errors import TargetError
from conda_source.target import resolve_target

SUMMARY = "Install checkouts into a conda environment: deps by conda, editable build, a record conda trusts."
EXAMPLES = """examples:
  conda-source develop-install . -c file:///path/to/channel        # into the active environment
  conda-source develop-install '.[test]' -n dev --group lint        # extras and a PEP 735 group
  conda-source develop-install pkg-a pkg-b -p ./env                 # several projects, one solve
  conda-source develop-install . --dry-run                          # show the plan, touch nothing
  conda-source develop-install . --uninstall                        # remove it again
"""


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """The standalone command: our own target and output options, then the verb's."""
    add_target_options(parser, "install into")
    parser.add_argument(
        "--override-channels", action="store_true", help="use only the -c channels (always so without conda)"
    )
    parser.add_argument("--dry-run", action="store_true", help="show the plan and the packages to link; change nothing")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation (never asked standalone)")
    add_options(parser)


def add_options(parser: argparse.ArgumentParser) -> None:
    """What only develop-install has (inside conda, conda's helpers add the standard options)."""
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH[extras]", help="project directories")
    parser.add_argument("--extras", action="append", default=[], metavar="A,B", help="project extras to include")
    parser.add_argument("--group", action="append", default=[], metavar="NAME", help="PEP 735 dependency group")
    parser.add_argument("--no-editable", action="store_true", help="install a regular (non-editable) build")
    deps = parser.add_mutually_exclusive_group()
    deps.add_argument("--no-deps", action="store_true", help="install the project only (build requirements still)")
    deps.add_argument("--only-deps", action="store_true", help="install the dependencies only")
    parser.add_argument("--uninstall", action="store_true", help="remove develop installs of these paths")
    # Not dest="force": conda reads that as its own setting (context.force).
    parser.add_argument(
        "--force", dest="force_clobber", action="store_true", help="overwrite files owned by other conda packages"
    )
    parser.add_argument("--allow-base", action="store_true", help="allow installing into conda's base environment")
    parser.add_argument("--map", dest="mapping_flags", action="append", default=[], metavar="PYPI=SPEC")
    parser.add_argument("--no-user-mapping", action="store_true", help="ignore the user's mapping file")


def execute(args: argparse.Namespace) -> int:
    if not (args.target_prefix or args.target_name or os.environ.get("CONDA_PREFIX")):
        raise TargetError("no target environment: pass -p PREFIX or -n NAME, or activate a conda environment")
    target = resolve_target(args.target_prefix, None, None, os.environ, args.target_name)
    parsed = [split_path_extras(p) for p in args.paths]
    command = " ".join(["conda-source", *sys.argv[1:]])
    if args.uninstall:
        result = develop_uninstall(target, [path for path, _ in parsed], command=command)
    else:
        extras = [e for _, path_extras in parsed for e in path_extras]
        extras += [e.strip() for flag in args.extras for e in flag.split(",") if e.strip()]
        factory = getattr(args, "installer_factory", None)
        installer = factory(target, tuple(args.source_channels)) if factory else None
        result = develop_install(
            DevelopRequest(
                paths=tuple(path for path, _ in parsed),
                target=target,
                channels=tuple(args.source_channels),
                extras=tuple(dict.fromkeys(extras)),
                groups=tuple(args.group),
                editable=not args.no_editable,
                deps=not args.no_deps,
                only_deps=args.only_deps,
                dry_run=args.dry_run,
                force=args.force_clobber,
                allow_base=args.allow_base,
                mapping_flags=tuple(args.mapping_flags),
                config_mapping=tuple(getattr(args, "config_mapping", ())),
                user_mapping=not args.no_user_mapping,
                command=command,
            ),
            installer,
        )
    print(json.dumps(result.to_dict(), indent=2) if args.json else render(result))
    return 0


def render(result: DevelopResult) -> str:
    lines: list[str] = []
    if result.dry_run:
        for plan in result.plans:
            lines += [render_plan(plan), ""]
    if result.transaction is not None:
        link = result.transaction.link
        lines += [f"Dependencies: {len(link)} package(s) to link" if link else "Dependencies: already installed"]
        lines += [f"  + {dist}" for dist in link]
    if result.dry_run:
        lines.append("Dry run: nothing was changed.")
    for project in result.projects:
        how = "editable" if project.editable else "regular"
        state = "unchanged, nothing to do" if project.unchanged else f"installed ({how}, {project.files} files)"
        lines.append(f"{project.name} {project.version} {project.build}: {state}")
        lines.append(f"  source {project.source}")
        lines.append(f"  record {project.record}")
    for dist in result.removed:
        lines.append(f"removed {dist}")
    if result.left_behind:
        lines.append(f"still installed, needed by nothing else: {', '.join(result.left_behind)}")
        lines.append(f"  remove them with: conda remove {' '.join(result.left_behind)}")
    return "\n".join(lines)
