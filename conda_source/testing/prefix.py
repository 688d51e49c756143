"""A conda prefix with a working python, made from any CPython with ``venv``.

``python -m venv --without-pip PREFIX`` provides the interpreter; a
``conda-meta/python-X.Y.Z-0.json`` record makes conda and py-rattler treat
python as installed.  The record claims no files, so nothing ever removes
the interpreter through it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conda_source.errors import TargetError
from conda_source.meta import history
from conda_source.target import probe

CHANNEL = "file:///conda-source-testing"


def make_test_prefix(prefix: Path, python: str | Path = sys.executable) -> Path:
    """Create ``prefix`` as a conda environment whose python is ``python``'s version.

    A prefix this function made before is returned as it is; any other
    existing environment is refused, never touched.
    """
    prefix = Path(prefix).absolute()
    if (prefix / "conda-meta").exists():
        if is_test_prefix(prefix):
            return prefix
        raise TargetError(f"{prefix}: already a conda environment; pick a new directory")
    try:
        subprocess.run(
            [str(python), "-m", "venv", "--without-pip", str(prefix)], check=True, capture_output=True, text=True
        )
    except subprocess.CalledProcessError as exc:
        raise TargetError(f"{python} -m venv {prefix} failed: {exc.stderr.strip()}") from exc
    return record_python(prefix)


def record_python(prefix: Path) -> Path:
    """Make ``prefix``, which has a working ``bin/python`` and no conda-meta yet, a conda environment."""
    target = probe(prefix)
    version = str(target.python)
    fn = f"python-{version}-0.conda"
    record = {
        "name": "python",
        "version": version,
        "build": "0",
        "build_number": 0,
        "channel": CHANNEL,
        "subdir": target.subdir,
        "fn": fn,
        "url": f"{CHANNEL}/{target.subdir}/{fn}",
        "depends": [],
        "constrains": [],
        "files": [],
        "paths_data": {"paths": [], "paths_version": 1},
        "requested_spec": "python",
    }
    meta = prefix / "conda-meta"
    meta.mkdir()
    (meta / f"python-{version}-0.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    (meta / "history").write_text("")
    # As `conda create -p PREFIX python` would: python was asked for (conda keeps it on `conda remove X`).
    history.append_history(
        prefix, f"conda_source.testing prefix {prefix}", [f"{CHANNEL}::python-{version}-0"], ["python"]
    )
    return prefix


def is_test_prefix(prefix: Path) -> bool:
    """True for a prefix ``make_test_prefix`` made: its python record names our channel."""
    for record in (prefix / "conda-meta").glob("python-*-0.json"):
        try:
            if json.loads(record.read_text()).get("channel") == CHANNEL:
                return True
        except (OSError, ValueError):
            continue
    return False
