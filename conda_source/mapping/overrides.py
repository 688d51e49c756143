"""Every mapping override a user gave, as one value built at the edge (CLI, conda, API).

The engines never see flags or settings: they ask ``Overrides.mapper(project)``
for the ``NameMapper`` of one project (the user's file is read once per value).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from conda_source.mapping.names import NameMapper, OverrideLayer, load_user_layer, parse_cli_overrides


@dataclass(frozen=True)
class Overrides:
    flags: tuple[str, ...] = ()  # --map PYPI=SPEC, in the order given
    config: tuple[str, ...] = ()  # PYPI=SPEC entries of conda's plugins.conda_source_mapping setting
    user_file: bool = True  # read the user's mapping file (--no-user-mapping turns it off)

    @cached_property
    def _cli(self) -> OverrideLayer:
        return parse_cli_overrides(self.flags)

    @cached_property
    def _user(self) -> tuple[OverrideLayer, ...]:
        """conda's setting, then the user's file: both read once."""
        layers = [parse_cli_overrides(self.config, "conda-config", "plugins.conda_source_mapping")]
        user = load_user_layer() if self.user_file else None
        return (*layers, *((user,) if user is not None else ()))

    def mapper(self, project_mapping: Mapping[str, tuple[tuple[str, ...], str]] | None = None) -> NameMapper:
        """The layers in precedence order: --map, the project's table, conda's setting, the user's file."""
        project = (OverrideLayer("project", project_mapping),) if project_mapping is not None else ()
        return NameMapper([self._cli, *project, *self._user])
