"""Random sequences of develop-install operations, killed at random steps, never break the ownership rules.

A hypothesis state machine drives the ``conda-source`` command (a real process) on one prefix that
starts with channel packages (``chanpkg`` with its ``dependent``, ``clashpkg``; tests/lab.py):
install and reinstall a project with a changed version, dependencies or entry points; a ``--force``
clash with ``clashpkg``'s script; a pip install taken over; ``chanpkg`` replaced by a checkout (or
refused, when its version breaks ``dependent``); uninstall.  Any run may be SIGKILLed at a random
step (``CONDA_SOURCE_FAULT=step:N``); the next run (the same command again, as a user would) must
recover, and after every operation the invariant checker of support.py and a model of what should
be installed must hold.

A few sequences run in the normal test run; ``CONDA_SOURCE_STATEFUL_EXAMPLES=200`` runs 200 (pick the
seed with ``--hypothesis-seed=N``).  The number of sequences run is written to
``CONDA_SOURCE_STATEFUL_REPORT`` (a file) when that is set.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from lab import cli, make_lab_channel, records, write_project
from support import before, check_invariants, site_packages

from conda_source.installer.installer import RattlerInstaller
from conda_source.target import probe
from conda_source.testing import make_test_prefix

EXAMPLES = int(os.environ.get("CONDA_SOURCE_STATEFUL_EXAMPLES", "3"))
# Kill at step N (about three runs in four; N past the run's last step: no kill), or None: no kill.
KILL = st.integers(min_value=-12, max_value=40).map(lambda n: n if n > 0 else None)
NOT_INSTALLED = ": not develop-installed in "


class Lab:
    """Made once per test session: the channel and a prefix with the channel packages, to copy."""

    root: Path | None = None

    @classmethod
    def get(cls) -> Path:
        if cls.root is None:
            root = Path(tempfile.mkdtemp(prefix="conda-source-stateful-"))
            channel = make_lab_channel(root)
            template = make_test_prefix(root / "template")
            RattlerInstaller(probe(template), [str(channel)]).install(["dependent", "clashpkg"])
            cls.root = root
        return cls.root


class Ownership(RuleBasedStateMachine):
    sequences = 0
    operations = 0
    kills = 0

    def __init__(self) -> None:
        super().__init__()
        Ownership.sequences += 1
        lab = Lab.get()
        self.channel = lab / "channel"
        self.work = Path(tempfile.mkdtemp(prefix="seq-", dir=lab))
        self.prefix = self.work / "env"
        # The template's python is a venv of this interpreter: copying it keeps it working.
        shutil.copytree(lab / "template", self.prefix, symlinks=True)
        self.then = before(self.prefix, (self.channel,))
        meta = self.prefix / "conda-meta"
        self.fixed = {
            p.name: p.read_bytes() for p in meta.glob("*.json") if p.name.startswith(("dependent-", "clashpkg-"))
        }
        self.chanpkg = next(meta.glob("chanpkg-*.json")).read_bytes()
        self.clash_tool = (self.prefix / "bin" / "clash-tool").read_bytes()
        self.installed: dict[str, str] = {}  # develop installs: conda name -> version
        self.overlap = False  # clash-dev holds clashpkg's bin/clash-tool (--force)
        self.projects = {name: self.work / name for name in ("lab-proj", "clash-dev", "chanpkg")}

    def teardown(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)

    def run(self, args: list[str], kill: int | None) -> subprocess.CompletedProcess[str]:
        """Run, maybe killed at step ``kill``; after a kill, the next run is the same command again."""
        Ownership.operations += 1
        if kill is not None:
            killed = cli(self.prefix, *args, fault=f"step:{kill}")
            if killed.returncode != -signal.SIGKILL:
                return killed
            Ownership.kills += 1
        return cli(self.prefix, *args)

    def expect(self, run: subprocess.CompletedProcess[str], success: bool) -> None:
        assert run.returncode == (0 if success else 1), (run.stdout, run.stderr)
        check_invariants(self.prefix, self.then)
        self.then = before(self.prefix, (self.channel,))

    @rule(
        version=st.sampled_from(["1.0", "2.0", "3.0"]),
        helper=st.booleans(),
        second_script=st.booleans(),
        kill=KILL,
    )
    def install_lab_proj(self, version: str, helper: bool, second_script: bool, kill: int | None) -> None:
        scripts = {"lab-proj": "lab_proj:main", **({"lab-proj-two": "lab_proj:main"} if second_script else {})}
        project = write_project(
            self.projects["lab-proj"], "lab-proj", version, ["helper-lib"] if helper else [], scripts
        )
        self.expect(self.run([str(project), "-c", str(self.channel)], kill), success=True)
        self.installed["lab-proj"] = version

    @precondition(lambda self: "lab-proj" not in self.installed)
    @rule(kill=KILL)
    def take_over_a_pip_install(self, kill: int | None) -> None:
        site = site_packages(self.prefix)
        old = site / "lab_proj-0.9.dist-info"
        old.mkdir()
        (old / "INSTALLER").write_text("pip\n")
        (old / "METADATA").write_text("Metadata-Version: 2.1\nName: lab-proj\nVersion: 0.9\n")
        (site / "__editable__.lab_proj-0.9.pth").write_text("/somewhere/else\n")
        (self.prefix / "bin" / "lab-proj").write_text("#!/bin/sh\necho pip\n")
        (old / "RECORD").write_text(
            "__editable__.lab_proj-0.9.pth,,\n../../../bin/lab-proj,,\nlab_proj-0.9.dist-info/METADATA,,\n"
            "lab_proj-0.9.dist-info/INSTALLER,,\nlab_proj-0.9.dist-info/RECORD,,\n"
        )
        self.then = before(self.prefix, (self.channel,))
        project = write_project(self.projects["lab-proj"], "lab-proj", "1.0")
        self.expect(self.run([str(project)], kill), success=True)
        assert not old.exists() and not (site / "__editable__.lab_proj-0.9.pth").exists()
        self.installed["lab-proj"] = "1.0"

    @rule(clash=st.booleans(), force=st.booleans(), kill=KILL)
    def clash_with_clashpkg(self, clash: bool, force: bool, kill: int | None) -> None:
        """clash-dev, with or without a script that clashes with clashpkg's (its version says which)."""
        scripts = {"clash-tool": "clash_dev:main"} if clash else {"clash-dev": "clash_dev:main"}
        project = write_project(self.projects["clash-dev"], "clash-dev", "1.1" if clash else "1.0", scripts=scripts)
        run = self.run([str(project), *(["--force"] if force else [])], kill)
        success = not clash or force or self.overlap  # a reinstall keeps what was handed over
        if not success:
            assert run.stderr.startswith("conda-source: error: clash-dev: would overwrite bin/clash-tool"), run.stderr
        self.expect(run, success)
        if success:
            self.installed["clash-dev"] = "1.1" if clash else "1.0"
            self.overlap = clash

    @rule(version=st.sampled_from(["2.0", "0.5"]), force=st.booleans(), kill=KILL)
    def develop_chanpkg(self, version: str, force: bool, kill: int | None) -> None:
        project = write_project(self.projects["chanpkg"], "chanpkg", version)
        run = self.run([str(project), *(["--force"] if force else [])], kill)
        success = force or version != "0.5" or self.installed.get("chanpkg") == version  # (a re-run: nothing to do)
        if not success:
            assert run.stderr.startswith("conda-source: error: chanpkg 0.5 does not satisfy 'chanpkg >=1.0'")
        self.expect(run, success)
        if success:
            self.installed["chanpkg"] = version

    @precondition(lambda self: bool(self.installed))
    @rule(data=st.data(), kill=KILL)
    def uninstall(self, data: st.DataObject, kill: int | None) -> None:
        name = data.draw(st.sampled_from(sorted(self.installed)))
        run = self.run([str(self.projects[name]), "--uninstall"], kill)
        if run.returncode == 1:  # the killed run had already removed it: the retry finds nothing to do
            assert kill is not None and NOT_INSTALLED in run.stderr, run.stderr
        self.expect(run, run.returncode == 0)
        del self.installed[name]
        if name == "chanpkg":
            assert next((self.prefix / "conda-meta").glob("chanpkg-*.json")).read_bytes() == self.chanpkg
        if name == "clash-dev":
            self.overlap = False

    @invariant()
    def matches_the_model(self) -> None:
        meta = self.prefix / "conda-meta"
        develop = {}
        for path in meta.glob("*.json"):
            data = json.loads(path.read_text())
            if data["channel"] == "local-develop":
                develop[data["name"]] = data["version"]
        assert develop == self.installed
        for name, data in self.fixed.items():
            assert (meta / name).read_bytes() == data, f"{name} was rewritten"
        if "chanpkg" not in self.installed:
            assert len(records(self.prefix, "chanpkg")) == 1
            assert next(meta.glob("chanpkg-*.json")).read_bytes() == self.chanpkg
        if not self.overlap:
            assert (self.prefix / "bin" / "clash-tool").read_bytes() == self.clash_tool


@pytest.mark.slow
def test_random_operation_sequences_with_kills() -> None:
    try:
        run_state_machine_as_test(
            Ownership,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=6,
                deadline=None,
                database=None,
                phases=[Phase.generate],  # every step is a real process: no shrinking
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        if Lab.root is not None:
            shutil.rmtree(Lab.root, ignore_errors=True)
            Lab.root = None
    report = os.environ.get("CONDA_SOURCE_STATEFUL_REPORT")
    if report:
        Path(report).write_text(
            f"{Ownership.sequences} sequences, {Ownership.operations} operations, {Ownership.kills} killed\n"
        )
    assert Ownership.sequences >= EXAMPLES
