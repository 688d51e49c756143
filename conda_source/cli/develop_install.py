"""``develop-install``: checkouts into a conda environment, editable, recorded for conda."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from conda_source.cli.common import add_extras_option, add_group_option, add_mapping_options, parse_extras
from conda_source.cli.invocation import Invocation

if TYPE_CHECKING:
    from conda_source.engine.develop_install import DevelopRequest, DevelopResult
    from conda_source.engine.uninstall import UninstallRequest

SUMMARY = "Install checkouts into a conda environment: deps by conda, editable build, a record conda trusts."
EXAMPLES = """examples:
  conda-source develop-install . -c file:///path/to/channel        # into the active environment
  conda-source develop-install '.[test]' -n dev --group lint        # extras and a PEP 735 group
  conda-source develop-install pkg-a pkg-b -p ./env                 # several projects, one solve
  conda-source develop-install . --dry-run                          # show the plan, touch nothing
  conda-source develop-install . --uninstall                        # remove it again
"""
DRY_RUN = True


def add_options(parser: argparse.ArgumentParser) -> None:
    """What only develop-install has (each front end adds -p/-n/-c, --json, -q/-v, -y)."""
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH[extras]", help="project directories")
    add_extras_option(parser, "project extras to include")
    add_group_option(parser)
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
    parser.add_argument(
        "--protect-env",
        action="store_true",
        help="protect the environment from pip: write PEP 668's EXTERNALLY-MANAGED into its stdlib directory "
        "(pip then refuses to install, and says to use conda develop-install)",
    )
    add_mapping_options(parser)


def to_request(args: argparse.Namespace, invocation: Invocation) -> DevelopRequest | UninstallRequest:
    from conda_source.engine.develop_types import DevelopRequest
    from conda_source.path_extras import split_path_extras

    parsed = [split_path_extras(p) for p in args.paths]
    if args.uninstall:
        from conda_source.engine.uninstall import UninstallRequest

        paths = tuple(path for path, _ in parsed)
        return UninstallRequest(paths, invocation.environment(), invocation.command, dry_run=args.dry_run)
    return DevelopRequest(
        paths=tuple(path for path, _ in parsed),
        environment=invocation.environment(),
        channels=invocation.channels,
        extras=parse_extras(args.extras, *(extras for _, extras in parsed)),
        groups=tuple(args.group),
        editable=invocation.editable_default and not args.no_editable,
        deps=not args.no_deps,
        only_deps=args.only_deps,
        dry_run=args.dry_run,
        force=args.force_clobber,
        allow_base=args.allow_base,
        overrides=invocation.overrides,
        command=invocation.command,
        protect_env=args.protect_env or invocation.protect_envs,
    )


def execute(request: DevelopRequest | UninstallRequest, invocation: Invocation) -> DevelopResult:
    from conda_source.engine.develop_types import DevelopRequest
    from conda_source.engine.rerun import nothing_to_do

    if isinstance(request, DevelopRequest):
        unchanged = nothing_to_do(request)  # a re-run with nothing to do: decided before the engine is imported
        if unchanged is not None:
            return unchanged
        if not (request.only_deps or request.dry_run):  # a dry run starts no backend it may not need
            from conda_source.backend.early_start import backends_started

            with backends_started(
                request.paths, request.environment, request.editable
            ):  # they start while the engine plans
                return _execute(request, invocation)
    return _execute(request, invocation)


def _execute(request: DevelopRequest | UninstallRequest, invocation: Invocation) -> DevelopResult:
    from conda_source.engine.develop_install import develop_install
    from conda_source.engine.uninstall import UninstallRequest, develop_uninstall

    reporter = invocation.make_reporter()
    if isinstance(request, UninstallRequest):
        # Putting back a replaced channel package falls back on the channels given (-c), if any.
        installer = invocation.installer(request.environment)
        if installer is None and invocation.channels:
            from conda_source.installer.installer import RattlerInstaller

            installer = RattlerInstaller(request.environment, invocation.channels, command=invocation.command)
        return develop_uninstall(request, reporter, installer)
    return develop_install(request, invocation.installer(request.environment), reporter)


def render(result: DevelopResult) -> str:
    from conda_source.cli.plan import render as render_plan
    from conda_source.reporting import dependency_lines, describe_plan

    lines: list[str] = []
    if result.declined:
        return "Nothing was changed."
    if result.dry_run:
        for plan in result.plans:
            lines += [render_plan(plan), ""]
        link, unlink = (result.transaction.link, result.transaction.unlink) if result.transaction else ((), ())
        lines += describe_plan(result.changes, link, unlink) if result.changes else []
        lines += list(result.replacing)
        lines.append("Dry run: nothing was changed.")
        return "\n".join(lines)
    if result.transaction is not None:
        link, unlink = result.transaction.link, result.transaction.unlink
        unlinked = f", {len(unlink)} unlinked" if unlink else ""
        if link or unlink:
            lines += [f"Dependencies: {len(link)} package(s) linked{unlinked}", *dependency_lines(link, unlink)]
        else:
            lines.append("Dependencies: already installed")
    lines += list(result.replacing)
    for project in result.projects:
        how = "editable" if project.editable else "regular"
        state = "unchanged, nothing to do" if project.unchanged else f"installed ({how}, {project.files} files)"
        if project.replaced and not project.unchanged:
            lines.append(f"{project.name} {project.version} {project.replaced}")
        lines.append(f"{project.name} {project.version} {project.build}: {state}")
        lines += [f"  forced over {path} (kept; --uninstall puts it back)" for path in project.forced]
        lines.append(f"  source {project.source}")
        lines.append(f"  record {project.record}")
    if result.protected:
        lines.append(f"protected from pip: wrote {result.protected}")
    if result.recovered:
        lines.append(f"recovered: {result.recovered}")
    for dist in result.removed:
        lines.append(f"removed {dist}")
    for dist in result.restored:
        lines.append(f"put back {dist}")
    if result.left_behind:
        lines.append(f"still installed, needed by nothing else: {', '.join(result.left_behind)}")
        lines.append(f"  remove them with: conda remove -p {result.prefix} {' '.join(result.left_behind)}")
    return "\n".join(lines)
