"""The environment of an activated conda prefix, as ``conda activate`` makes it.

Every backend hook runs in it, so a build finds what the environment's packages
configure through activation (conda-forge's compilers set ``CC``, ``CFLAGS`` and
friends in ``etc/conda/activate.d``).  The steps follow conda's POSIX activator
(``conda.activate``), then add what conda-build gives a host environment:

1. drop what leaks from conda-source's own interpreter (``PYTHONPATH``,
   ``PYTHONHOME``, ``VIRTUAL_ENV`` and its ``bin``, ``__PYVENV_LAUNCHER__``) and
   the ``bin`` directories of any other active conda environment;
2. ``CONDA_PREFIX``, ``CONDA_SHLVL``, ``CONDA_DEFAULT_ENV``,
   ``CONDA_PROMPT_MODIFIER`` and ``PATH`` (the prefix's ``bin`` first), as conda
   sets them (another active environment is replaced, not stacked);
3. the variables of ``etc/conda/env_vars.d/*`` and then ``conda-meta/state``
   (``conda env config vars``); ``PATH`` is reserved and ``***unset***`` means
   "not set", as in conda;
4. conda-build's host variables: ``PREFIX``, ``PKG_CONFIG_PATH``,
   ``CMAKE_PREFIX_PATH`` (prefix entries prepended) and ``PYTHONNOUSERSITE``;
5. one shell sources the replaced environment's ``deactivate.d`` scripts and
   this prefix's ``activate.d/*.sh`` scripts in sorted order, and the
   environment it ends with is captured.

The shell is ``bash`` when one is on the activated PATH (conda-forge's scripts
are written for the user's bash or zsh, and some use bash syntax), else ``sh``.
Windows ``.bat`` scripts are not run yet: they are listed in ``notes``.

A result is cached per process, keyed by the base environment and the state of
every file that feeds it, so all hooks of a run share one shell run, and a
package installed between two hooks still takes effect.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from conda_source.errors import CondaSourceError

STATE_FILE = Path("conda-meta", "state")
ENV_VARS_DIR = Path("etc", "conda", "env_vars.d")
ACTIVATE_DIR = Path("etc", "conda", "activate.d")
DEACTIVATE_DIR = Path("etc", "conda", "deactivate.d")
UNSET = "***unset***"  # conda's CONDA_ENV_VARS_UNSET_VAR
RESERVED = ("PATH",)  # conda's RESERVED_ENV_VARS

# Set by conda-source's own interpreter or virtual environment; meaningless, or harmful, for another python.
LEAKS = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "__PYVENV_LAUNCHER__")
# Variables the capturing shell itself changes; the values from before it ran are kept.
SHELL_OWN = ("_", "SHLVL", "PWD", "OLDPWD")
ON_WINDOWS = sys.platform == "win32"


class ActivationError(CondaSourceError):
    """An activation file of the target environment is broken."""

    def __init__(self, prefix: Path, file: Path, reason: str, output: str = "") -> None:
        self.prefix = prefix
        self.file = file
        self.output = output
        super().__init__(f"{file}: {reason}")


@dataclass(frozen=True)
class Activation:
    """The environment every backend hook runs in, and how it came about.

    ``scripts`` are the activation scripts that ran, in order (for ``-v``);
    ``output`` is what they printed; ``notes`` say what was skipped and why.
    """

    prefix: Path
    environ: dict[str, str]
    scripts: tuple[Path, ...] = ()
    deactivate_scripts: tuple[Path, ...] = ()
    output: str = ""
    notes: tuple[str, ...] = field(default=())


_cache: dict[tuple[object, ...], Activation] = {}


def activate(prefix: Path, base: Mapping[str, str]) -> Activation:
    """The environment of ``prefix`` activated on top of ``base`` (normally ``os.environ``)."""
    prefix = Path(prefix).absolute()
    base = dict(base)
    deactivated = _deactivated(prefix, base)
    key = (prefix, tuple(sorted(base.items())), _fingerprint(prefix, deactivated))
    if key not in _cache:
        _cache[key] = _activate(prefix, base, deactivated)
    return _cache[key]


def path_dirs(prefix: Path) -> list[str]:
    """The directories conda puts on PATH for ``prefix`` (conda's ``_get_path_dirs``)."""
    if not ON_WINDOWS:
        return [str(prefix / "bin")]
    library = prefix / "Library"
    variants = [v for v in ("ucrt64", "clang64", "mingw64", "clangarm64") if (library / v).is_dir()]
    dirs = [str(prefix)]
    dirs += [str(library / variants[0] / "bin")] if variants else []
    dirs += [str(library / "mingw-w64" / "bin"), str(library / "usr" / "bin"), str(library / "bin")]
    return [*dirs, str(prefix / "Scripts"), str(prefix / "bin")]


def default_env(prefix: Path, base: Mapping[str, str]) -> str:
    """conda's CONDA_DEFAULT_ENV: ``base`` for the root prefix, the name under ``envs/``, else the path."""
    root = base.get("MAMBA_ROOT_PREFIX") or (str(Path(base["CONDA_EXE"]).parent.parent) if "CONDA_EXE" in base else "")
    if root and _same(Path(root), prefix):
        return "base"
    return prefix.name if prefix.parent.name == "envs" else str(prefix)


def _activate(prefix: Path, base: dict[str, str], deactivated: Path | None) -> Activation:
    env = {k: v for k, v in base.items() if k not in LEAKS}
    drop = [Path(base["VIRTUAL_ENV"], "Scripts" if ON_WINDOWS else "bin")] if "VIRTUAL_ENV" in base else []
    for name, value in base.items():
        if value and (name == "CONDA_PREFIX" or name.startswith("CONDA_PREFIX_")) and not _same(Path(value), prefix):
            drop += [Path(d) for d in path_dirs(Path(value))]
    mine = path_dirs(prefix)
    kept = [d for d in base.get("PATH", "").split(os.pathsep) if d and d not in mine and not _within(d, drop)]
    env["PATH"] = os.pathsep.join([*mine, *kept])

    shlvl = _int(base.get("CONDA_SHLVL"))
    if deactivated is None or not _same(deactivated, prefix):  # conda's reactivation keeps the level
        if deactivated is not None:
            env[f"CONDA_PREFIX_{shlvl}"] = str(deactivated)
        shlvl += 1
    name = default_env(prefix, base)
    env.update(
        CONDA_PREFIX=str(prefix), CONDA_SHLVL=str(shlvl), CONDA_DEFAULT_ENV=name, CONDA_PROMPT_MODIFIER=f"({name}) "
    )

    config, notes = _env_vars(prefix)
    env.update(config)
    env["PREFIX"] = str(prefix)
    env["PKG_CONFIG_PATH"] = _prepend(
        "PKG_CONFIG_PATH", [prefix / "lib" / "pkgconfig", prefix / "share" / "pkgconfig"], base
    )
    env["CMAKE_PREFIX_PATH"] = _prepend("CMAKE_PREFIX_PATH", [prefix], base)
    env["PYTHONNOUSERSITE"] = "1"  # as conda-build: packages in ~/.local must not shadow the prefix's

    if ON_WINDOWS:
        bat = _scripts(prefix / ACTIVATE_DIR, ".bat")
        if bat:
            notes += (f"{len(bat)} .bat activation script(s) in {prefix / ACTIVATE_DIR} not run: not supported yet",)
        return Activation(prefix, env, notes=notes)
    scripts = _scripts(prefix / ACTIVATE_DIR, ".sh")
    deactivate = _scripts(deactivated / DEACTIVATE_DIR, ".sh")[::-1] if deactivated is not None else ()
    if not scripts and not deactivate:
        return Activation(prefix, env, notes=notes)
    environ, output = _source(prefix, env, [*deactivate, *scripts])
    return Activation(prefix, environ, scripts, deactivate, output, notes)


def _source(prefix: Path, env: dict[str, str], scripts: list[Path]) -> tuple[dict[str, str], str]:
    """Source ``scripts`` in one shell and return the environment it ends with, and its output."""
    search = os.pathsep.join([env["PATH"], os.defpath])
    shell = shutil.which("bash", path=search) or shutil.which("sh", path=search) or "sh"
    dumper = shutil.which("env", path=os.defpath) or "env"  # not found through PATH, which scripts may change
    with tempfile.TemporaryDirectory(prefix="conda-source-activate-") as scratch:
        progress, dump = Path(scratch, "progress"), Path(scratch, "environ")
        lines = []
        for index, script in enumerate(scripts):
            lines.append(f"printf '%s' {index} > {shlex.quote(str(progress))}")
            lines.append(f". {shlex.quote(str(script))} || exit $?")
        lines.append(f"exec {shlex.quote(dumper)} -0 > {shlex.quote(str(dump))}")
        try:
            completed = subprocess.run(
                [shell, "-c", "\n".join(lines)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            raise ActivationError(prefix, scripts[0], f"cannot start a shell to run it: {exc}") from exc
        output = os.fsdecode(completed.stdout)
        if completed.returncode != 0 or not dump.is_file():
            failed = scripts[int(progress.read_text())] if progress.is_file() else scripts[0]
            last = output.strip().splitlines()[-1] if output.strip() else "no output"
            reason = (
                f"activation script failed (exit status {completed.returncode}, in {shell}): {last}; "
                f"fix the script or remove the package that installed it"
            )
            raise ActivationError(prefix, failed, reason, output)
        captured = dump.read_bytes()
    environ = dict(_entry(item) for item in captured.split(b"\0") if b"=" in item)
    for name in SHELL_OWN:
        environ.pop(name, None)
        if name in env:
            environ[name] = env[name]
    return environ, output


def _entry(item: bytes) -> tuple[str, str]:
    name, _, value = item.partition(b"=")
    return os.fsdecode(name), os.fsdecode(value)


def _env_vars(prefix: Path) -> tuple[dict[str, str], tuple[str, ...]]:
    """conda's environment variables of ``prefix``: packages' ``env_vars.d`` files, then ``conda-meta/state``."""
    found: dict[str, str] = {}
    notes: list[str] = []
    sources = sorted((prefix / ENV_VARS_DIR).glob("*")) if (prefix / ENV_VARS_DIR).is_dir() else []
    for path in sources:
        found.update(_read_vars(prefix, path, member=None))
    if (prefix / STATE_FILE).is_file():
        found.update(_read_vars(prefix, prefix / STATE_FILE, member="env_vars"))
    for name in RESERVED:
        if found.pop(name, UNSET) != UNSET:
            notes.append(f"{name} set by conda env config vars or env_vars.d is ignored, as conda ignores it")
    return {k: v for k, v in found.items() if v != UNSET}, tuple(notes)


def _read_vars(prefix: Path, path: Path, member: str | None) -> dict[str, str]:
    """A JSON object of variable names to strings: the whole file, or one member of it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ActivationError(prefix, path, f"cannot read environment variables: {exc}") from exc
    if member is not None:
        data = data.get(member, {}) if isinstance(data, dict) else None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        if member is None:
            reason = "must be a JSON object of variable names to strings; reinstall the package that installed it"
        else:
            reason = (
                f"'{member}' must be a JSON object of variable names to strings; reset it with conda env config vars"
            )
        raise ActivationError(prefix, path, reason)
    return {str(k): v for k, v in data.items()}


def _scripts(directory: Path, suffix: str) -> tuple[Path, ...]:
    try:
        return tuple(sorted(p for p in directory.iterdir() if p.name.endswith(suffix)))
    except OSError:
        return ()


def _deactivated(prefix: Path, base: Mapping[str, str]) -> Path | None:
    """The environment active in ``base`` whose deactivate scripts run first, as in conda.

    That is another environment, which activation replaces, or ``prefix`` itself,
    which conda then reactivates.
    """
    active = base.get("CONDA_PREFIX")
    if not active or _int(base.get("CONDA_SHLVL")) < 1:
        return None
    return prefix if _same(Path(active), prefix) else Path(active)


def _fingerprint(prefix: Path, deactivated: Path | None) -> tuple[tuple[str, int, int], ...]:
    """Name, mtime and size of every file that feeds activation."""
    files: list[Path] = [prefix / STATE_FILE]
    extra = [deactivated / DEACTIVATE_DIR] if deactivated else []
    for directory in (prefix / ENV_VARS_DIR, prefix / ACTIVATE_DIR, *extra):
        files += _scripts(directory, "")
    stats = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        stats.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(stats)


def _prepend(name: str, paths: Iterable[Path], base: Mapping[str, str]) -> str:
    mine = [str(p) for p in paths]
    return os.pathsep.join([*mine, *(e for e in base.get(name, "").split(os.pathsep) if e and e not in mine)])


def _within(entry: str, directories: list[Path]) -> bool:
    return any(_same(Path(entry), d) for d in directories)


def _same(a: Path, b: Path) -> bool:
    return os.path.normcase(os.path.normpath(a.absolute())) == os.path.normcase(os.path.normpath(b.absolute()))


def _int(text: str | None) -> int:
    try:
        return int((text or "").strip() or 0)
    except ValueError:
        return 0
