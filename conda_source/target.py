"""The environment conda-source installs into, seen from its own interpreter.

Markers are always evaluated against a ``TargetEnv``, never against the
interpreter running conda-source: conda's base env may run python 3.12 while
the target env runs 3.9 on the same machine.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from conda_source import cache
from conda_source.errors import TargetError

# conda subdir -> the marker values a CPython on that platform reports.
_PLATFORMS: dict[str, dict[str, str]] = {
    "linux-64": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"},
    "linux-aarch64": {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "aarch64",
    },
    "linux-ppc64le": {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "ppc64le",
    },
    "osx-64": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "x86_64"},
    "osx-arm64": {
        "sys_platform": "darwin",
        "platform_system": "Darwin",
        "os_name": "posix",
        "platform_machine": "arm64",
    },
    "win-64": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"},
    "win-arm64": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "ARM64"},
}
SUBDIRS = tuple(_PLATFORMS)


@dataclass(frozen=True)
class TargetEnv:
    """A python on a platform: enough to evaluate markers and choose packages."""

    python: Version
    subdir: str
    markers: Mapping[str, str]

    @classmethod
    def from_spec(cls, python: str, subdir: str) -> TargetEnv:
        """A described (not probed) target: ``--python 3.11 --platform linux-64``.

        ``python_full_version`` is X.Y.0 when only X.Y is given; markers that
        compare ``platform_release``/``platform_version`` see empty strings.
        """
        if subdir not in _PLATFORMS:
            raise TargetError(f"unknown platform '{subdir}'; choose one of: {', '.join(SUBDIRS)}")
        try:
            version = Version(python)
        except InvalidVersion:
            raise TargetError(f"--python '{python}' is not a version; use X.Y or X.Y.Z, e.g. 3.12") from None
        if len(version.release) not in (2, 3) or version.release[0] != 3 or version.local or version.epoch:
            raise TargetError(f"--python '{python}' is not a python 3 version; use X.Y or X.Y.Z, e.g. 3.12")
        major, minor, *rest = version.release
        full = f"{major}.{minor}.{rest[0] if rest else 0}"
        markers = {
            "implementation_name": "cpython",
            "implementation_version": full,
            "platform_python_implementation": "CPython",
            "python_version": f"{major}.{minor}",
            "python_full_version": full,
            "platform_release": "",
            "platform_version": "",
            **_PLATFORMS[subdir],
        }
        return cls(Version(full), subdir, markers)

    @property
    def python_short(self) -> str:
        return f"{self.python.major}.{self.python.minor}"

    def marker_environment(self, extra: str = "") -> dict[str, str]:
        return {**self.markers, "extra": extra}

    def describe(self) -> str:
        return f"python {self.python} ({self.markers['implementation_name']}), {self.subdir}"


@dataclass(frozen=True)
class Environment:
    """A probed conda prefix: where it is, its interpreter, its install scheme, and what it targets."""

    prefix: Path
    interpreter: Path
    target: TargetEnv
    paths: Mapping[str, str] = field(default_factory=dict)  # sysconfig scheme: purelib, scripts, data, ...

    @property
    def python(self) -> Version:
        return self.target.python

    @property
    def subdir(self) -> str:
        return self.target.subdir

    @property
    def python_short(self) -> str:
        return self.target.python_short

    def describe(self) -> str:
        return f"{self.target.describe()} in {self.prefix}"


def python_in(prefix: Path) -> Path:
    """The interpreter of a conda prefix, or a TargetError saying how to get one."""
    if not prefix.is_dir():
        raise TargetError(f"{prefix}: no such environment; create it with 'conda create -p {prefix} python'")
    for candidate in (prefix / "bin" / "python", prefix / "python.exe"):
        try:
            if candidate.is_file():
                return candidate
        except OSError as exc:
            raise TargetError(f"{candidate}: cannot look at this interpreter ({exc.strerror or exc})") from None
    raise TargetError(f"{prefix}: this environment has no python; add one with 'conda install -p {prefix} python'")


def probe(prefix: Path) -> Environment:
    """Ask the prefix's own python about itself (one subprocess, JSON out), or reuse its last answer.

    The answer is cached (``conda_source.cache``) under what would change it: the
    interpreter's path, the file it resolves to with its size and mtime, the
    prefix's ``pyvenv.cfg``, the kernel (markers report its release) and the
    probe script itself.  Any change there probes again.
    """
    prefix = prefix.absolute()  # later steps run with other working directories
    python = python_in(prefix)
    script = (Path(__file__).parent / "_probe.py").read_text(encoding="utf-8")
    key = probe_key(python, script)
    data: dict[str, Any] | None = cache.load("probe", key)
    if not isinstance(data, dict) or not {"version", "markers", "paths"} <= set(data):
        import subprocess  # only when there is no cached answer: a re-run does not import it

        try:
            completed = subprocess.run(
                [str(python), "-I", "-c", script], capture_output=True, text=True, check=True, timeout=60
            )
            data = json.loads(completed.stdout)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            raise TargetError(f"{python}: could not run this interpreter to inspect it: {detail.strip()}") from exc
        assert isinstance(data, dict)
        cache.store("probe", key, data)
    markers: dict[str, str] = data["markers"]
    target = TargetEnv(Version(".".join(str(p) for p in data["version"])), _subdir_of(markers), markers)
    return Environment(prefix, python, target, data["paths"])


def probe_key(python: Path, script: str) -> str:
    """What a probe's answer depends on, as a cache key."""
    resolved = python.resolve()
    uname = os.uname() if hasattr(os, "uname") else None
    return cache.key(
        "probe",
        str(python),
        cache.stat_of(resolved),
        cache.stat_of(python.parent.parent / "pyvenv.cfg"),
        cache.stat_of(python.parent / "pyvenv.cfg"),
        [uname.release, uname.version, uname.machine] if uname else None,
        hashlib.sha256(script.encode()).hexdigest(),
    )


def _subdir_of(markers: Mapping[str, str]) -> str:
    machine = markers["platform_machine"].lower()
    for subdir, values in _PLATFORMS.items():
        if values["sys_platform"] == markers["sys_platform"] and values["platform_machine"].lower() == machine:
            return subdir
    raise TargetError(
        f"unsupported platform {markers['sys_platform']}/{markers['platform_machine']}; "
        f"conda-source knows {', '.join(SUBDIRS)}"
    )


def host_subdir() -> str:
    """The conda subdir of this machine (the platform is the machine's, whatever the python)."""
    import platform as _platform
    import sys as _sys

    return _subdir_of({"sys_platform": _sys.platform, "platform_machine": _platform.machine()})


def named_environment(name: str, environ: Mapping[str, str], home: Path | None = None) -> Path:
    """Find the conda environment called ``name`` without asking conda.

    Looks in ``$CONDA_ENVS_PATH``, in ``envs/`` of the conda installation that
    ``$CONDA_EXE`` belongs to (``base`` is that installation itself), and in the
    environments conda registered in ``~/.conda/environments.txt``.
    """
    home = home or Path.home()
    root = Path(environ["CONDA_EXE"]).parent.parent if environ.get("CONDA_EXE") else None
    if name == "base" and root is not None:
        return root
    candidates = [Path(d) / name for d in environ.get("CONDA_ENVS_PATH", "").split(os.pathsep) if d]
    if root is not None:
        candidates.append(root / "envs" / name)
    registry = home / ".conda" / "environments.txt"
    if registry.is_file():
        candidates += [Path(line.strip()) for line in registry.read_text().splitlines() if line.strip()]
    for candidate in candidates:
        if candidate.name == name and (candidate / "conda-meta").is_dir():
            return candidate
    raise TargetError(
        f"no conda environment named '{name}' (looked in $CONDA_ENVS_PATH, the conda installation's envs/ "
        "and ~/.conda/environments.txt); pass -p PREFIX instead"
    )


def resolve_target(
    prefix: Path | None,
    python: str | None,
    subdir: str | None,
    environ: Mapping[str, str],
    name: str | None = None,
) -> TargetEnv | Environment:
    """Pick the target: a probed prefix, or a described python/platform.

    Order: ``--python`` (with ``--platform``, default this machine's) describes
    a target; else ``-p PREFIX`` or ``-n NAME`` is probed; else the active ``$CONDA_PREFIX``.
    """
    if python is not None:
        if prefix is not None or name is not None:
            raise TargetError("give either -p/--prefix (probe an environment) or --python (describe one), not both")
        return TargetEnv.from_spec(python, subdir or host_subdir())
    if subdir is not None:
        raise TargetError("--platform describes a target together with --python X.Y; add --python")
    return resolve_environment(prefix, name, environ, "or describe one with --python X.Y [--platform SUBDIR]")


def resolve_environment(
    prefix: Path | None, name: str | None, environ: Mapping[str, str], alternative: str = ""
) -> Environment:
    """The environment to work in: ``-p PREFIX``, ``-n NAME``, else the active ``$CONDA_PREFIX``; probed."""
    if name is not None:
        if prefix is not None:
            raise TargetError("give either -n/--name or -p/--prefix, not both")
        prefix = named_environment(name, environ)
    if prefix is None and environ.get("CONDA_PREFIX"):
        prefix = Path(environ["CONDA_PREFIX"])
    if prefix is not None and prefix.is_dir() and not (prefix / "conda-meta").is_dir():
        raise TargetError(
            f"{prefix}: not a conda environment (no conda-meta/); create one with 'conda create -p {prefix} python', "
            "or give the prefix of an existing environment"
        )
    if prefix is None:
        how = "pass -p PREFIX or -n NAME" + (
            f", activate a conda environment, {alternative}" if alternative else ", or activate a conda environment"
        )
        raise TargetError(f"no target environment: {how}")
    return probe(prefix)
