"""Mapping overrides: every one a user gave, as one value built at the edge (CLI, conda, API).

The engines never see flags or settings: they ask ``Overrides.mapper(project)``
for the ``NameMapper`` of one project (the user's file is read once per value).
The layers come from ``--map`` flags, the project's ``[tool.conda-source.mapping]``,
conda's ``plugins.conda_source_mapping`` setting and the user's mapping file; this
module parses and checks each of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from conda_source.errors import MappingConfigError
from conda_source.specs import validate_conda_spec

if TYPE_CHECKING:  # imported where used: building an Overrides value (every command's start) reads no table
    from conda_source.mapping.names import NameMapper, OverrideLayer

USER_MAPPING_ENV = "CONDA_SOURCE_MAPPING"


@dataclass(frozen=True)
class Overrides:
    flags: tuple[str, ...] = ()  # --map PYPI=SPEC, in the order given
    config: tuple[str, ...] = ()  # PYPI=SPEC entries of conda's plugins.conda_source_mapping setting
    user_file: bool = True  # read the user's mapping file (--no-user-mapping turns it off)

    @cached_property
    def _cli(self) -> OverrideLayer:
        return parse_cli_overrides(self.flags)

    @cached_property
    def user_file_stat(self) -> list[object] | None:
        """The user's mapping file (path, size, mtime) as this value read it, or None (--no-user-mapping):
        taken before the file is read, so a file edited later (during a long build) never passes for it."""
        if not self.user_file:
            return None
        path = user_mapping_file()[0]
        assert path is not None
        try:
            stat = path.stat()
        except OSError:
            return [str(path.absolute()), None, None]
        return [str(path.absolute()), stat.st_size, stat.st_mtime_ns]

    @cached_property
    def _user(self) -> tuple[OverrideLayer, ...]:
        """conda's setting, then the user's file: both read once."""
        self.user_file_stat  # noqa: B018 (taken before the file is read)
        layers = [parse_cli_overrides(self.config, "conda-config", "plugins.conda_source_mapping")]
        user = load_user_layer() if self.user_file else None
        return (*layers, *((user,) if user is not None else ()))

    def mapper(self, project_mapping: Mapping[str, tuple[tuple[str, ...], str]] | None = None) -> NameMapper:
        """The layers in precedence order: --map, the project's table, conda's setting, the user's file."""
        from conda_source.mapping.names import NameMapper, OverrideLayer

        project = (OverrideLayer("project", project_mapping),) if project_mapping is not None else ()
        return NameMapper([self._cli, *project, *self._user])


def parse_override_value(value: object, where: str) -> tuple[str, ...]:
    """Validate one override value: a spec, a list of specs, or empty to drop."""
    if isinstance(value, str):
        specs = [part.strip() for part in value.split(";")] if value.strip() else []
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        specs = [item.strip() for item in value]
    else:
        raise MappingConfigError(
            where, "expected a conda spec string or a list of them ('' or [] drops the dependency)"
        )
    for spec in specs:
        reason = validate_conda_spec(spec, name_and_version=True)
        if reason:
            raise MappingConfigError(where, reason)
    return tuple(specs)


def parse_override_table(table: object, source: str, where: str) -> OverrideLayer:
    """Turn a ``{pypi-name: spec(s)}`` table into a layer; ``where`` prefixes errors."""
    if not isinstance(table, dict):
        raise MappingConfigError(where, "expected a table of PyPI name = conda spec(s)")
    from conda_source.mapping.names import OverrideLayer, parse_mapping_key

    entries: dict[str, tuple[tuple[str, ...], str]] = {}
    for raw_key, value in table.items():
        key_where = f"{where}.{raw_key}"
        key = parse_mapping_key(raw_key)
        if key is None:
            raise MappingConfigError(key_where, _depurl_problem(raw_key) or "not a PyPI name (or name[extra])")
        if key in entries:
            raise MappingConfigError(key_where, f"duplicates '{entries[key][1]}' (same canonical name)")
        entries[key] = (parse_override_value(value, key_where), key_where)
    return OverrideLayer(source, entries)


def parse_cli_overrides(flags: Sequence[str], source: str = "cli", label: str = "--map") -> OverrideLayer:
    """``PYPI=SPEC[;SPEC...]`` entries (``--map`` flags, or conda's ``conda_source_mapping``
    setting); ``PYPI=`` drops the dependency."""
    from conda_source.mapping.names import OverrideLayer, is_depurl, parse_mapping_key

    entries: dict[str, tuple[tuple[str, ...], str]] = {}
    for flag in flags:
        where = f"{label} {flag}"
        name, sep, value = flag.partition("=")
        key = parse_mapping_key(name)
        if (not sep or key is None) and is_depurl(name):
            reason = _depurl_problem(name) if sep else ""
            example = f"expected DEPURL=CONDA-SPEC (e.g. {label} 'dep:generic/openssl=openssl >=3')"
            raise MappingConfigError(where, f"{reason}; {example}" if reason else example)
        if not sep or key is None:
            raise MappingConfigError(where, f"expected PYPI-NAME=CONDA-SPEC (e.g. {label} torch=pytorch-cpu)")
        entries[key] = (parse_override_value(value, where), where)
    return OverrideLayer(source, entries)


def _depurl_problem(text: str) -> str | None:
    """Why ``text``, written as a DepURL, is no override key; ``None`` for anything else."""
    from conda_source.mapping.names import is_depurl

    if not is_depurl(text):
        return None
    from conda_source.mapping.depurl import override_key_problem

    return override_key_problem(text)[1] or None


def user_mapping_file(environ: Mapping[str, str] | None = None) -> tuple[Path | None, bool]:
    """The user's mapping file and whether it was asked for explicitly.

    ``$CONDA_SOURCE_MAPPING`` names it explicitly (then it must exist); otherwise
    ``$XDG_CONFIG_HOME/conda-source/mapping.toml`` (``~/.config`` by default) is
    used when present.
    """
    env = os.environ if environ is None else environ
    if env.get(USER_MAPPING_ENV):
        return Path(env[USER_MAPPING_ENV]).expanduser(), True
    config_home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config_home / "conda-source" / "mapping.toml", False


def load_user_layer(environ: Mapping[str, str] | None = None) -> OverrideLayer | None:
    path, explicit = user_mapping_file(environ)
    if path is None or not path.is_file():
        if explicit:
            problem = "is a directory" if path is not None and path.is_dir() else "file not found"
            raise MappingConfigError(
                f"${USER_MAPPING_ENV}={path}", f"{problem}; point it at a TOML file with a [mapping] table"
            )
        return None
    from conda_source._toml import read_toml
    from conda_source.errors import InvalidProjectError

    try:
        document = read_toml(path)
    except InvalidProjectError as exc:
        raise MappingConfigError(str(path), exc.problems[0].message) from None
    unknown = sorted(set(document) - {"mapping"})
    if unknown:
        raise MappingConfigError(str(path), f"unknown table '{unknown[0]}'; only [mapping] is read")
    return parse_override_table(document.get("mapping", {}), "user", f"{path}: mapping")
