"""One backend process per build: every PEP 517 hook served by a persistent runner.

``HookProcess`` offers the calls of pyproject-hooks' ``BuildBackendHookCaller``
that conda-source makes, with the same results and the same exceptions
(``BackendUnavailable``, ``HookMissing``, ``UnsupportedOperation``, warnings
re-emitted as ``BuildBackendWarning``, a failed hook as ``CalledProcessError``
with the process's exit status), but it starts the target interpreter once and
keeps it (``_hook_runner.py``, stdlib only), so the backend is imported once and
the hooks of a build cost one process start-up instead of three.

The process is started again when what it runs in changed since it started:
the environment (activation) or the installed packages (``conda-meta``), so a
package installed between two hooks is seen exactly as by a fresh process.
A hook that fails ends the process; the next call starts a new one.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pyproject_hooks import BackendUnavailable, BuildBackendWarning, HookMissing, UnsupportedOperation

from conda_source.backend.runner_process import Running, launch

Context = tuple[Mapping[str, str], object]  # the environment, and a token that changes when packages do


class HookProcess:
    def __init__(
        self,
        source_dir: Path,
        build_backend: str,
        backend_path: Sequence[str],
        python: Path,
        context: Callable[[], Context],
        on_output: Callable[[str], object],
    ) -> None:
        self.source_dir = os.path.abspath(source_dir)
        self.build_backend = build_backend
        self.backend_path = [os.path.normpath(os.path.join(self.source_dir, p)) for p in backend_path] or None
        self.python = str(python)
        self._context = context
        self._on_output = on_output
        self._process: Running | None = None
        self.started = 0  # how many processes this build started (1 unless something changed or failed)
        self.read: list[str] | None = None  # the files the last get_requires hook read (None: not known)

    # The calls of BuildBackendHookCaller that conda-source makes.
    def get_requires_for_build_wheel(self, config_settings: Mapping[str, Any] | None = None) -> Sequence[str]:
        return self._call("get_requires_for_build_wheel", {"config_settings": config_settings})  # type: ignore[no-any-return]

    def get_requires_for_build_editable(self, config_settings: Mapping[str, Any] | None = None) -> Sequence[str]:
        return self._call("get_requires_for_build_editable", {"config_settings": config_settings})  # type: ignore[no-any-return]

    def prepare_metadata_for_build_wheel(
        self, metadata_directory: str, config_settings: Mapping[str, Any] | None = None, _allow_fallback: bool = True
    ) -> str:
        return self._metadata("prepare_metadata_for_build_wheel", metadata_directory, config_settings, _allow_fallback)

    def prepare_metadata_for_build_editable(
        self, metadata_directory: str, config_settings: Mapping[str, Any] | None = None, _allow_fallback: bool = True
    ) -> str:
        hook = "prepare_metadata_for_build_editable"
        return self._metadata(hook, metadata_directory, config_settings, _allow_fallback)

    def build_wheel(
        self,
        wheel_directory: str,
        config_settings: Mapping[str, Any] | None = None,
        metadata_directory: str | None = None,
    ) -> str:
        return self._build("build_wheel", wheel_directory, config_settings, metadata_directory)

    def build_editable(
        self,
        wheel_directory: str,
        config_settings: Mapping[str, Any] | None = None,
        metadata_directory: str | None = None,
    ) -> str:
        return self._build("build_editable", wheel_directory, config_settings, metadata_directory)

    def _metadata(
        self, hook: str, directory: str, config_settings: Mapping[str, Any] | None, allow_fallback: bool
    ) -> str:
        kwargs = {
            "metadata_directory": os.path.abspath(directory),
            "config_settings": config_settings,
            "_allow_fallback": allow_fallback,
        }
        return str(self._call(hook, kwargs))

    def _build(
        self, hook: str, directory: str, config_settings: Mapping[str, Any] | None, metadata_directory: str | None
    ) -> str:
        kwargs = {
            "wheel_directory": os.path.abspath(directory),
            "config_settings": config_settings,
            "metadata_directory": os.path.abspath(metadata_directory) if metadata_directory else None,
        }
        return str(self._call(hook, kwargs))

    def close(self) -> None:
        """End the process (it exits when its request pipe closes) and collect its last output."""
        if self._process is not None:
            self._process.close()
            self._process = None

    def _call(self, hook: str, kwargs: Mapping[str, Any]) -> Any:
        environ, token = self._context()
        process = self._process
        if process is None or not process.serves(environ, token):
            self.close()
            process = self._process = self._start(environ, token, hook, kwargs)
        data = process.call(hook, kwargs)
        self.read = data.get("read") if data is not None else None
        if data is None:  # the process ended during the hook: its exit status says how
            self._process = None
            raise subprocess.CalledProcessError(process.returncode, [self.python, "<hook runner>", hook])
        if data.get("unsupported"):
            raise UnsupportedOperation(data.get("traceback", ""))
        if data.get("no_backend"):
            raise BackendUnavailable(
                data.get("traceback", ""),
                message=data.get("backend_error", ""),
                backend_name=self.build_backend,
                backend_path=self.backend_path,
            )
        if data.get("hook_missing"):
            raise HookMissing(data.get("missing_hook_name") or hook)
        for w in data.get("warnings", []):
            warnings.warn_explicit(
                message=w["message"], category=BuildBackendWarning, filename=w["filename"], lineno=w["lineno"]
            )
        return data["return_val"]

    def _start(self, environ: Mapping[str, str], token: object, hook: str, kwargs: Mapping[str, Any]) -> Running:
        """A process for ``hook(**kwargs)``, the call about to be made: one started early for exactly this build,
        if it was asked nothing or just that call ahead (``Running.takes``), else a new one."""
        self.started += 1
        key = _key(self.python, self.source_dir, self.build_backend, self.backend_path, environ, token)
        early = _early.pop(key, None)
        for other in [k for k in _early if k[:4] == key[:4]]:  # started for this build in another state: unused
            _early.pop(other).close()
        if early is not None and early.serves(environ, token) and early.takes(hook, kwargs):
            early.adopt(self._on_output)
            return early
        if early is not None:
            early.close()
        return launch(
            self.python, self.source_dir, self.build_backend, self.backend_path, environ, token, self._on_output
        )


def start_early(
    source_dir: Path,
    build_backend: str,
    backend_path: Sequence[str],
    python: Path,
    context: Context,
    first_hook: str | None = None,
) -> None:
    """Start the process of a build that is about to come, so the interpreter's start and the backend's import
    overlap the caller's own work.  ``HookProcess`` takes it over when it asks for exactly that process (same
    interpreter, project, backend, environment and installed packages); otherwise it is ended unused.

    ``first_hook`` (a ``get_requires_for_build_*`` hook, without config settings) is asked at once, as the
    build's first call will: the answer waits in the pipe for that call, which then costs nothing.  Or,
    ``first_hook`` being a build hook, it builds at once into a scratch directory of its own, without
    metadata or config settings: the build's call for that hook takes the wheel over.  A build already
    started (the same project named twice) is not started again."""
    source = os.path.abspath(source_dir)
    paths = [os.path.normpath(os.path.join(source, p)) for p in backend_path] or None
    environ, token = context
    key = _key(str(python), source, build_backend, paths, environ, token)
    if key in _early:
        return
    process = _early[key] = launch(str(python), source, build_backend, paths, environ, token, lambda _: None)
    if first_hook is not None and first_hook.startswith("build_"):
        scratch = tempfile.mkdtemp(prefix="conda-source-ahead-")  # the process's own: removed when it is closed
        kwargs = {"wheel_directory": scratch, "config_settings": None, "metadata_directory": None}
        process.send_ahead(first_hook, kwargs)
    elif first_hook is not None:
        process.send_ahead(first_hook, {"config_settings": None})


_early: dict[tuple[Any, ...], Running] = {}  # started by start_early, not yet taken over


def end_early() -> None:
    """End every process started early that no build took over (the run is over)."""
    while _early:
        _early.popitem()[1].close()


def installed_token(prefix: Path) -> object:
    """Changes when packages are installed into ``prefix`` or removed: a process started before is stale."""
    try:
        return (prefix / "conda-meta").stat().st_mtime_ns
    except OSError:
        return None


def _key(
    python: str, source: str, backend: str, paths: list[str] | None, environ: Mapping[str, str], token: object
) -> tuple[Any, ...]:
    return (python, source, backend, tuple(paths or ()), tuple(sorted(environ.items())), token)
