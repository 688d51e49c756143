"""PEP 668 end to end: pip, run by the environment's own python, refuses to install into an environment
that ``develop-install --protect-env`` protected, with conda-source's message, and installs with the
override that message names.

pip ignores ``EXTERNALLY-MANAGED`` inside a virtual environment, and the usual test prefix is a venv.
So this test makes a prefix that is no venv: a copy of the base interpreter's executable, whose
``lib/pythonX.Y`` holds links to the base installation's standard library (and pip), so the copy
finds its own prefix (``sys.prefix == sys.base_prefix == PREFIX``, no ``pyvenv.cfg``), as a conda
python does.  Where the base installation is not laid out that way, the test is skipped and says why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import copy_project
from wheelmaker import make_wheel

from conda_source.prefix.pip_protection import MESSAGE
from conda_source.testing.prefix import record_python

SHORT = f"python{sys.version_info[0]}.{sys.version_info[1]}"
QUIET = {"PYTHONDONTWRITEBYTECODE": "1", "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def system_prefix(prefix: Path) -> Path:
    """A prefix whose python is no venv (see the module's docstring), or a skip that says why not."""
    base = Path(sys.base_prefix)
    stdlib = base / "lib" / SHORT
    executable = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    if os.name != "posix" or not (stdlib / "os.py").is_file() or not executable.is_relative_to(base):
        pytest.skip(f"the base python ({executable}) is not a POSIX installation with its stdlib in {stdlib}")
    pips = [p for p in (stdlib / "site-packages").glob("pip*") if p.name == "pip" or p.name.endswith(".dist-info")]
    if not any(p.name == "pip" for p in pips):
        pytest.skip(f"the base python has no pip in {stdlib / 'site-packages'} to run in the copy")
    (prefix / "bin").mkdir(parents=True)
    shutil.copy2(executable, prefix / "bin" / SHORT)
    (prefix / "bin" / "python").symlink_to(SHORT)
    (prefix / "lib" / SHORT / "site-packages").mkdir(parents=True)
    for entry in stdlib.iterdir():
        if entry.name != "site-packages":
            (prefix / "lib" / SHORT / entry.name).symlink_to(entry)
    for entry in pips:
        (prefix / "lib" / SHORT / "site-packages" / entry.name).symlink_to(entry)
    found = run(prefix, "-c", "import sys; print(sys.prefix, sys.base_prefix)")
    if found.returncode != 0 or found.stdout.split() != [str(prefix), str(prefix)]:
        pytest.skip(f"a copy of {executable} does not find its own prefix (relocated: {found.stdout or found.stderr})")
    return record_python(prefix)


def run(prefix: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **QUIET}
    for name in ("PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV", "PIP_BREAK_SYSTEM_PACKAGES"):
        environ.pop(name, None)
    return subprocess.run([str(prefix / "bin" / "python"), *args], capture_output=True, text=True, env=environ)


def test_pip_refuses_with_our_message_and_installs_with_its_override(tmp_path: Path) -> None:
    prefix = system_prefix(tmp_path / "env")
    project = copy_project("in-tree-editable", tmp_path)
    command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix)]
    installed = subprocess.run([*command, "--protect-env", "--no-user-mapping"], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    assert (prefix / "lib" / SHORT / "EXTERNALLY-MANAGED").read_text() == MESSAGE
    wheel = make_wheel(tmp_path, name="pip_target", version="1.0", files={"pip_target.py": b"OK = 1\n"})

    refused = run(prefix, "-m", "pip", "install", "--no-index", str(wheel))
    assert refused.returncode == 1
    said = [line.strip() for line in refused.stderr.splitlines()]
    assert said[:11] == [
        "error: externally-managed-environment",
        "",
        "× This environment is externally managed",
        "╰─> This environment is managed by conda: pip would install PyPI packages over conda's, and conda would not",
        "know about them.",
        "Install packages with conda: conda install NAME",
        "Install a checkout of a Python project (editable, its dependencies from conda, recorded for conda):",
        "conda develop-install .",
        "To use pip here anyway, at your own risk: pip install --break-system-packages ...; or remove this file",
        "(conda-source wrote it because this environment asked to be protected from pip).",
        "",
    ]
    assert not list((prefix / "lib" / SHORT / "site-packages").glob("pip_target*"))

    forced = run(prefix, "-m", "pip", "install", "--no-index", "--break-system-packages", str(wheel))
    assert forced.returncode == 0, forced.stderr
    assert run(prefix, "-c", "import pip_target; print(pip_target.__file__)").stdout == (
        f"{prefix / 'lib' / SHORT / 'site-packages' / 'pip_target.py'}\n"
    )
    assert not (Path(sys.base_prefix) / "lib" / SHORT / "EXTERNALLY-MANAGED").exists()


def test_a_protection_the_os_refuses_says_the_install_is_done(prefix: Path, tmp_path: Path) -> None:
    """EXTERNALLY-MANAGED is written once the develop install is whole: a write refused then (here the OS refuses
    it: a directory is in the way; a full disk or a read-only stdlib would do the same) must not say the run was
    undone; running the command again writes only the file."""
    project = copy_project("in-tree-editable", tmp_path)
    stdlib = prefix / "lib" / SHORT
    (stdlib / "EXTERNALLY-MANAGED.partial").mkdir()
    command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix), "-y"]
    command += ["--no-user-mapping", "--protect-env"]
    run = subprocess.run(command, capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"conda-source: error: {stdlib / 'EXTERNALLY-MANAGED.partial'}: Is a directory; the develop install is "
        "done, but the environment is not protected from pip: check that path (permissions, free space, file "
        "system) and run the command again (it writes only the protection)"
    )
    assert len(list((prefix / "conda-meta").glob("in-tree-editable-*.json"))) == 1
    (stdlib / "EXTERNALLY-MANAGED.partial").rmdir()
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "unchanged, nothing to do" in again.stdout and (stdlib / "EXTERNALLY-MANAGED").read_text() == MESSAGE
