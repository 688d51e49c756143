"""PEP 517 hooks, run by the target environment's own interpreter, without isolation.

The hooks of one build are served by one process of the interpreter we give it
(``hook_process``: pyproject-hooks' semantics, the backend imported once), so the
backend imports what the prefix has (and nothing from conda-source's own
environment).  Each hook runs in the activated prefix (conda_source.backend.activation):
its ``bin`` first on PATH and its activation scripts applied, so compilers, cmake
and friends installed by conda are the ones a build finds, configured as their
packages say.  Every failure becomes a ``BackendError`` carrying the backend's output.

``build`` is the one hook sequence both engines run: the backend's extra build
requirements (installed by the caller), its metadata, then the wheel.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from pyproject_hooks import BackendUnavailable, HookMissing

from conda_source.backend import requires_memo
from conda_source.backend.activation import Activation, activate
from conda_source.backend.hook_process import HookProcess, installed_token
from conda_source.backend.meanwhile import importing
from conda_source.errors import CondaSourceError
from conda_source.project import ProjectSpec

if TYPE_CHECKING:
    from packaging.metadata import Metadata


class BackendError(CondaSourceError):
    """The build backend failed, or is missing what a hook needs."""

    def __init__(self, project: Path, hook: str, reason: str, output: str = "") -> None:
        self.project = project
        self.hook = hook
        self.output = output
        super().__init__(f"{project}: build backend failed in {hook}: {reason}")


class Backend:
    def __init__(
        self,
        project: ProjectSpec,
        python: Path,
        prefix: Path,
        activation: Activation | None = None,
        echo: Callable[[str], object] | None = None,
    ) -> None:
        self.project = project
        self.output: list[str] = []
        self._answered: dict[str, requires_memo.Answer] = {}  # get_requires hooks answered, for the memo
        self.echo = echo  # gets the backend's output line by line, as it comes (-v)
        self._prefix = prefix
        self._activation = activation
        self._python = python
        self._hooks = HookProcess(
            project.root,
            project.build_system.backend,
            project.build_system.backend_path,
            python,
            context=self._context,
            on_output=self._on_output,
        )

    def _on_output(self, text: str) -> None:
        self.output.append(text)
        if self.echo is not None:
            self.echo(text)

    def close(self) -> None:
        """End the backend's process (``build`` does it; a Backend used again starts a new one)."""
        self._hooks.close()

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _context(self) -> tuple[Mapping[str, str], object]:
        """What the hook process runs in: the activated environment, and the state of the installed packages."""
        return self.activation.environ, installed_token(self._prefix)

    @property
    def activation(self) -> Activation:
        """The activated environment the hooks run in; one given to the constructor is used as it is.

        Otherwise it is made on first use, and again only if an activation file
        changed since (a package installed between two hooks).
        """
        return self._activation or activate(self._prefix, os.environ)

    def get_requires(self, editable: bool) -> list[Requirement]:
        """What the backend needs beyond build-system.requires, checked to be valid requirements."""
        hook = "get_requires_for_build_editable" if editable else "get_requires_for_build_wheel"
        answer = requires_memo.recall(self._memo_key(hook))
        if answer is None:
            with self._failures(hook):  # HookProcess's method of that name; then the files it read
                answer = requires_memo.Answer(list(getattr(self._hooks, hook)()), self._hooks.read)
            requires_memo.remember(self._memo_key(hook), answer)
        self._answered[hook] = answer
        requirements = []
        for text in answer.texts:
            try:
                requirements.append(Requirement(text))
            except InvalidRequirement as exc:
                problem = str(exc).splitlines()[0]
                reason = f"the backend asked for an invalid requirement '{text}' ({problem}); fix or upgrade it"
                raise BackendError(self.project.root, hook, reason, self._output()) from None
        return requirements

    def prepare_metadata(self, directory: Path, editable: bool) -> Path:
        """The dist-info directory the backend prepares (falling back to a wheel build)."""
        hook = "prepare_metadata_for_build_editable" if editable else "prepare_metadata_for_build_wheel"
        directory.mkdir(parents=True, exist_ok=True)
        with self._failures(hook):  # HookProcess's method of that name
            name = getattr(self._hooks, hook)(str(directory), _allow_fallback=True)
        return directory / str(name)

    @property
    def read_files(self) -> list[str]:
        """The files the get_requires hooks read (setup.py may read any): what they say counts for the install."""
        return sorted({path for answer in self._answered.values() for path in answer.read or ()})

    def _memo_key(self, hook: str) -> str | None:
        return requires_memo.project_key(hook, self.project, self._python, self.activation.environ, self._prefix)

    def build_wheel(self, directory: Path) -> Path:
        """Build a wheel into ``directory``; the hook's returned name is the file, never a glob."""
        self._remember_answers()
        with self._failures("build_wheel"):
            name = self._hooks.build_wheel(str(directory))
        return self._built(directory, name, "build_wheel")

    def build_editable(self, directory: Path, metadata: Path | None = None) -> Path:
        """PEP 660 editable wheel; a backend without the hook gets a clear error."""
        self._remember_answers()
        with self._failures("build_editable"):
            name = self._hooks.build_editable(str(directory), metadata_directory=str(metadata) if metadata else None)
        return self._built(directory, name, "build_editable")

    def _remember_answers(self) -> None:
        """What the build asked for is installed now; frontends build on the answer (PEP 517): it holds here too."""
        for hook, answer in self._answered.items():
            requires_memo.remember(self._memo_key(hook), answer)

    def read_metadata(self, text: str, hook: str) -> Metadata:
        """The core metadata the backend wrote, with the fields conda-source uses checked."""
        from packaging.metadata import InvalidMetadata, Metadata  # email parsing: only once there is metadata

        try:
            metadata = Metadata.from_email(text, validate=False)
            _ = (metadata.name, metadata.version, metadata.requires_dist, metadata.requires_python)
        except (InvalidMetadata, ValueError) as exc:
            causes = getattr(exc, "exceptions", None) or [exc]  # an ExceptionGroup: every invalid field
            reason = f"the backend wrote invalid metadata: {'; '.join(map(str, causes))}; fix the project's metadata"
            raise BackendError(self.project.root, hook, reason, self._output()) from None
        return metadata

    def _built(self, directory: Path, name: str, hook: str) -> Path:
        wheel = directory / name
        if not wheel.is_file():
            raise BackendError(self.project.root, hook, f"the backend reported '{name}' but did not write it")
        return wheel

    @contextmanager
    def _failures(self, hook: str) -> Iterator[None]:
        """One place that turns every backend failure into a BackendError.

        Warnings the backend raised (re-emitted here by pyproject-hooks) join its
        output instead of our own warning stream.
        """
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                yield
            self.output += [f"warning: {w.message}\n" for w in caught]
        except BackendUnavailable as exc:
            reason = f"cannot import '{exc.backend_name}' in the target environment; is it in build-system.requires?"
            raise BackendError(self.project.root, hook, reason, self._output()) from exc
        except HookMissing as exc:
            reason = f"the backend has no '{exc.hook_name}' hook"
            if exc.hook_name == "build_editable":
                reason += " (it predates PEP 660 editable installs); use --no-editable, or upgrade the backend"
            raise BackendError(self.project.root, hook, reason) from exc
        except subprocess.CalledProcessError as exc:
            raise BackendError(self.project.root, hook, _exit_reason(exc.returncode), self._output()) from exc
        except OSError as exc:  # the interpreter could not be started
            raise BackendError(self.project.root, hook, f"cannot run {self._python}: {exc}") from exc

    def _output(self) -> str:
        return "".join(self.output)


def _exit_reason(code: int) -> str:
    known = {-s.value: s.name for s in signal.Signals}
    ended = f"crashed ({known.get(code, f'signal {-code}')})" if code < 0 else f"exited with status {code}"
    return f"the backend {ended}; its output is above, fix what it reports and run again"


@dataclass(frozen=True)
class Built:
    wheel: Path
    metadata: Metadata


def build(
    backend: Backend,
    out: Path,
    *,
    editable: bool,
    install: Callable[[Sequence[Requirement], str], object],
    before_build: Callable[[Metadata], object] | None = None,
    metadata_first: bool = True,
    phase: Callable[[str], AbstractContextManager[object]] = lambda message: contextlib.nullcontext(),
    asked: Asked | None = None,
    meanwhile: Sequence[str] = (),
) -> Built:
    """The hook sequence of one build, the same for every engine.

    1. ``get_requires_for_build_*``: ``install(requirements, hook)`` puts them into the environment;
    2. ``prepare_metadata_for_build_*`` (or a fallback build): the exact name, version and
       dependencies; ``before_build(metadata)`` may install the dependencies;
    3. ``build_editable`` (PEP 660) or ``build_wheel``.

    With ``metadata_first=False`` step 2 is skipped and the metadata is read from the wheel.
    ``phase(message)`` wraps each hook (a live status); ``asked`` holds hooks already answered
    (``ask_before``), which are not asked again.  All hooks are served by one backend
    process, ended when the sequence ends.  ``meanwhile``: modules the caller needs once the
    wheel is built, imported while the backend builds it (its own process: the two overlap).
    """
    try:
        return _build(backend, out, editable, install, before_build, metadata_first, phase, asked, meanwhile)
    finally:
        backend.close()
        if asked is not None:
            asked.close()


@dataclass
class Asked:
    """Hooks answered before the build (develop-install asks before anything changes); ``build`` reuses them.

    ``metadata_dir`` lives in ``scratch`` until ``close``.
    """

    requirements: list[Requirement]
    metadata: Metadata | None = None
    metadata_dir: Path | None = None
    scratch: tempfile.TemporaryDirectory[str] | None = None

    def close(self) -> None:
        if self.scratch is not None:
            self.scratch.cleanup()


def ask_before(backend: Backend, editable: bool, with_metadata: Callable[[list[Requirement]], bool]) -> Asked:
    """Run ``get_requires_for_build_*`` and, if ``with_metadata(requirements)``, ``prepare_metadata_for_build_*``;
    the backend's process stays up for the build that follows."""
    asked = Asked(backend.get_requires(editable))
    if with_metadata(asked.requirements):
        asked.scratch = tempfile.TemporaryDirectory(prefix="conda-source-metadata-")
        try:
            asked.metadata_dir, asked.metadata = _prepare_metadata(backend, Path(asked.scratch.name), editable)
        except BaseException:
            asked.close()
            raise
    return asked


def _prepare_metadata(backend: Backend, scratch: Path, editable: bool) -> tuple[Path, Metadata]:
    hook = "prepare_metadata_for_build_editable" if editable else "prepare_metadata_for_build_wheel"
    with importing(("packaging.metadata",)):  # what reads the metadata: imported while the backend writes it
        metadata_dir = backend.prepare_metadata(scratch, editable)
    metadata_file = metadata_dir / "METADATA"
    if not metadata_file.is_file():
        reason = f"the backend reported '{metadata_dir.name}' but wrote no METADATA there"
        raise BackendError(backend.project.root, hook, reason, backend._output())
    return metadata_dir, backend.read_metadata(metadata_file.read_text(encoding="utf-8", errors="replace"), hook)


def _build(
    backend: Backend,
    out: Path,
    editable: bool,
    install: Callable[[Sequence[Requirement], str], object],
    before_build: Callable[[Metadata], object] | None,
    metadata_first: bool,
    phase: Callable[[str], AbstractContextManager[object]],
    asked: Asked | None,
    meanwhile: Sequence[str],
) -> Built:
    name = backend.project.root.name
    hook = "get_requires_for_build_editable" if editable else "get_requires_for_build_wheel"
    if asked is not None:
        requirements = asked.requirements
    else:
        with phase(f"{name}: {hook}"):
            requirements = backend.get_requires(editable)
    install(requirements, hook)
    build_hook = "build_editable" if editable else "build_wheel"
    if not metadata_first:
        with phase(f"{name}: {build_hook}"), importing(meanwhile):
            wheel = backend.build_editable(out) if editable else backend.build_wheel(out)
        _check_wheel(backend, wheel, build_hook)
        return Built(wheel, backend.read_metadata(_wheel_metadata(backend, wheel, build_hook), build_hook))
    with tempfile.TemporaryDirectory(prefix="conda-source-metadata-") as scratch:
        metadata_hook = "prepare_metadata_for_build_editable" if editable else "prepare_metadata_for_build_wheel"
        if asked is not None and asked.metadata is not None and asked.metadata_dir is not None:
            metadata_dir, metadata = asked.metadata_dir, asked.metadata
        else:
            with phase(f"{name}: {metadata_hook}"):
                metadata_dir, metadata = _prepare_metadata(backend, Path(scratch), editable)
        if before_build is not None:
            before_build(metadata)
        with phase(f"{name}: {build_hook}"), importing(meanwhile):
            wheel = backend.build_editable(out, metadata_dir) if editable else backend.build_wheel(out)
    _check_wheel(backend, wheel, build_hook)
    return Built(wheel, metadata)


def _wheel_metadata(backend: Backend, wheel: Path, hook: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        found = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if len(found) != 1:
            reason = f"the wheel '{wheel.name}' has {len(found)} .dist-info/METADATA files, not one"
            raise BackendError(backend.project.root, hook, reason, backend._output())
        return archive.read(found[0]).decode("utf-8", errors="replace")


def _check_wheel(backend: Backend, wheel: Path, hook: str) -> None:
    if not zipfile.is_zipfile(wheel):
        reason = f"the backend wrote '{wheel.name}', which is not a wheel (zip) file"
        raise BackendError(backend.project.root, hook, reason, backend._output())
