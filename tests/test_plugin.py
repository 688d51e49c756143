"""conda loads conda_source.plugin at every start-up: it must cost nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

HEAVY = ("rattler", "packaging", "conda_source.engine", "conda_source.mapping", "conda_source.project", "tomllib")


def test_plugin_import_loads_nothing_heavy() -> None:
    """On top of what conda itself has loaded (conda.plugins, when conda exists), only our module."""
    code = (
        "import sys, json, contextlib\n"
        "with contextlib.suppress(ImportError):\n    import conda.plugins\n"
        "before = set(sys.modules); import conda_source.plugin\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out)
    # Standard-library modules conda has always loaded by then are fine; nothing else is.
    ours = [name for name in loaded if name.split(".")[0] not in sys.stdlib_module_names]
    assert ours == ["conda_source", "conda_source.plugin"]
    assert not [name for name in loaded if name.startswith(HEAVY)]


def test_conda_entry_point_points_at_the_plugin_module() -> None:
    found = [ep for ep in entry_points(group="conda") if ep.name == "conda-source"]
    assert [ep.value for ep in found] == ["conda_source.plugin"]


def test_console_script_is_declared() -> None:
    found = [ep for ep in entry_points(group="console_scripts") if ep.name == "conda-source"]
    assert [ep.value for ep in found] == ["conda_source.cli:entry"]


def test_our_options_never_become_conda_settings_by_accident() -> None:
    """conda copies parsed arguments into its context: only the shared standard ones may match."""
    import argparse

    from conda_source.cli import build_local, develop_install

    shared_on_purpose = {"json", "quiet", "dry_run", "yes", "help"}  # added by conda's own helpers inside conda
    conda_settings = {"force", "prefix", "name", "channel", "channels", "solver", "offline", "verbosity", "python"}
    for module in (develop_install, build_local):
        parser = argparse.ArgumentParser()
        module.add_options(parser)
        dests = {action.dest for action in parser._actions}
        assert not (dests - shared_on_purpose) & conda_settings, module.__name__
