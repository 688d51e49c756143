"""The round trip of an environment with develop installs, through conda's environment plugins.

``conda export --format conda-source`` (or ``--file NAME.conda-source.yml``) writes what conda's own
environment.yml has, without the develop installs and without the ``local-develop`` channel, plus a
``conda-source:`` section naming each develop install's checkout::

    name: dev
    channels: [conda-forge]
    dependencies: [python=3.12.7=h..., six=1.16.0=pyhd8ed1ab_0]
    conda-source:
      develop:
        - {path: /home/me/src/proj, name: proj, version: 0.4.0, editable: true, extras: [test], groups: []}

``conda env create -f NAME.conda-source.yml`` (also ``conda env update``, ``conda create --file``) reads it
back with the environment specifier registered here: conda solves and links the packages, then a
post-command hook develop-installs each checkout through conda-source, with conda's own solver.  Every
checkout must exist before conda changes anything, or the command fails at once.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conda_source.meta import conda_meta
from conda_source.meta.conda_meta import DEVELOP_CHANNEL

SECTION = "conda-source"
HEADER = (
    "# conda-source environment: conda packages from channels, develop installs from their checkouts.\n"
    "# Re-create with: conda env create -f THIS-FILE (needs conda-source in conda's base environment).\n"
)


@dataclass(frozen=True)
class Develop:
    """One develop install, as the file describes it."""

    path: str
    name: str = ""
    editable: bool = True
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def to_json(self, version: str) -> dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "version": version,
            "editable": self.editable,
            "extras": list(self.extras),
            "groups": list(self.groups),
        }


def export(environment: Any) -> str:
    """The file for ``environment`` (conda's model of a prefix): packages, channels, develop installs."""
    from conda.common.serialize import yaml

    from conda_source.cli import conda_export

    conda_export.carried()  # conda's own formats leave develop installs out and say so; this one carries them
    prefix = Path(environment.prefix or "")
    develop = {record.name: (record, state) for record, state in conda_meta.develop_installs(prefix)}
    # A prefix's path is no name: conda env create would take it for one (give -n/-p when re-creating).
    document: dict[str, Any] = {"name": environment.name} if "/" not in str(environment.name or "/") else {}
    channels = [c for c in (environment.config.channels if environment.config else ()) if _usable(c)]
    if channels:
        document["channels"] = channels
    document["dependencies"] = [
        spec.conda_env_form() for spec in environment.requested_packages if spec.name not in develop
    ]
    if environment.external_packages:
        document["dependencies"].append(environment.external_packages)
    if environment.variables:
        document["variables"] = dict(environment.variables)
    entries = []
    for name, (record, state) in sorted(develop.items()):
        source = state.source if state else record.source
        editable = state.editable if state else record.build.startswith("editable")
        extras, groups = (state.extras, state.groups) if state else ((), ())
        entries.append(Develop(source, name, editable, extras, groups).to_json(record.version))
    document[SECTION] = {"develop": entries}
    return HEADER + str(yaml.dumps(document))


def _usable(channel: str) -> bool:
    """Not the develop installs' pseudo-channel, nor a local channel directory that is gone."""
    from urllib.parse import unquote, urlparse

    if channel == DEVELOP_CHANNEL:
        return False
    return not channel.startswith("file:") or Path(unquote(urlparse(channel).path)).is_dir()


class FileError(ValueError):
    """A conda-source environment file that cannot be used as it is."""


def read(filename: str) -> tuple[dict[str, Any], list[Develop]]:
    """The file's document and its develop installs, checked: every checkout must exist."""
    from conda.common.serialize import yaml

    try:
        document = yaml.read(path=filename)
    except Exception as exc:
        raise FileError(f"{filename}: not a YAML document ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get(SECTION), dict):
        raise FileError(
            f"{filename}: no '{SECTION}:' section; this is not a file 'conda export --format conda-source' wrote"
        )
    entries = document[SECTION].get("develop") or []
    if not isinstance(entries, list):
        raise FileError(f"{filename}: {SECTION}.develop: expected a list of {{path: ...}} entries")
    develop = []
    for index, entry in enumerate(entries):
        where = f"{filename}: {SECTION}.develop[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise FileError(f"{where}: expected an entry with a 'path' (the checkout)")
        path = Path(entry["path"]).expanduser()
        if not path.is_absolute():
            path = (Path(filename).absolute().parent / path).resolve()
        if not (path / "pyproject.toml").is_file() and not (path / "setup.py").is_file():
            raise FileError(
                f"{where}: {path}: no checkout there (no pyproject.toml or setup.py); clone or copy the project "
                "there, or edit the path, then run the command again"
            )
        develop.append(
            Develop(
                str(path),
                str(entry.get("name") or ""),
                bool(entry.get("editable", True)),
                tuple(str(e) for e in entry.get("extras") or ()),
                tuple(str(g) for g in entry.get("groups") or ()),
            )
        )
    return document, develop


# What the files read in this process want develop-installed once conda's own transaction has run.
_pending: dict[str, tuple[tuple[str, ...], list[Develop]]] = {}


def spec_class() -> type[Any]:
    """The environment specifier for conda-source files (made on demand: conda's types load lazily)."""
    from conda.plugins.types import EnvironmentSpecBase

    class CondaSourceEnvironmentSpec(EnvironmentSpecBase):  # type: ignore[misc]
        detection_supported = True

        def __init__(self, filename: str | None = None, **kwargs: Any) -> None:
            self.filename = filename

        def can_handle(self) -> bool:
            from conda.exceptions import CondaValueError

            if self.filename is None:
                raise CondaValueError("no file given")
            try:
                read(self.filename)
            except FileError as exc:
                raise CondaValueError(str(exc)) from None
            return True

        @property
        def env(self) -> Any:
            from conda.base.context import context
            from conda.exceptions import CondaValueError
            from conda.models.environment import Environment, EnvironmentConfig
            from conda.models.match_spec import MatchSpec

            assert self.filename is not None
            try:
                document, develop = read(self.filename)
            except FileError as exc:
                raise CondaValueError(str(exc)) from None
            channels = tuple(str(c) for c in document.get("channels") or () if c != DEVELOP_CHANNEL)
            dependencies = document.get("dependencies") or []
            external = {k: list(v) for d in dependencies if isinstance(d, dict) for k, v in d.items()}
            _pending[self.filename] = (channels, develop)
            return Environment(
                platform=context.subdir,
                name=document.get("name"),
                config=EnvironmentConfig(channels=channels),
                requested_packages=[MatchSpec(d) for d in dependencies if isinstance(d, str)],
                external_packages=external,
                variables=dict(document.get("variables") or {}),
            )

    return CondaSourceEnvironmentSpec


def recreate_develop_installs(command: str) -> None:
    """After conda's transaction (a post-command hook): develop-install what the files read asked for."""
    from conda.base.context import context

    from conda_source.cli.conda_installer import CondaInstaller
    from conda_source.engine.develop_install import DevelopRequest, develop_install
    from conda_source.target import probe

    pending = list(_pending.values())
    _pending.clear()
    if not pending or context.dry_run:
        return
    prefix = Path(context.target_prefix)
    environment = probe(prefix)
    for channels, develop in pending:
        for item in develop:
            request = DevelopRequest(
                paths=(Path(item.path),),
                environment=environment,
                channels=channels,
                extras=item.extras,
                groups=item.groups,
                editable=item.editable,
                command=f"conda {command.replace('_', ' ')} (conda-source: develop-install {item.path})",
            )
            result = develop_install(request, CondaInstaller(environment, channels))
            if not context.json and not context.quiet:
                for project in result.projects:
                    how = "editable" if project.editable else "regular"
                    print(
                        f"conda-source: develop-installed {project.name} {project.version} ({how}) "
                        f"from {project.source}",
                        file=sys.stderr,
                    )
