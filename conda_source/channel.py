"""Local channels: file packages under their subdir and re-index with py-rattler."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterable
from pathlib import Path

from conda_source.errors import CondaSourceError


class ChannelError(CondaSourceError):
    def __init__(self, channel: Path, reason: str) -> None:
        self.channel = channel
        super().__init__(f"{channel}: {reason}")


def file_into_channel(packages: Iterable[tuple[Path, str]], channel: Path) -> list[Path]:
    """Copy each (package, subdir) into ``channel/subdir/`` and re-index the channel.

    Afterwards ``conda install -c file://CHANNEL name`` finds them.
    """
    channel = channel.absolute()
    if channel.exists() and not channel.is_dir():
        raise ChannelError(channel, "exists and is not a directory")
    filed = []
    for package, subdir in packages:
        destination = channel / subdir
        destination.mkdir(parents=True, exist_ok=True)
        target = destination / package.name
        shutil.copyfile(package, target.with_name(target.name + ".part"))
        target.with_name(target.name + ".part").replace(target)
        filed.append(target)
    index_channel(channel)
    return filed


def index_channel(channel: Path) -> None:
    """(Re)write repodata.json for every subdir; conda channels always have noarch/."""
    from rattler.index import index_fs

    from conda_source._rattler import settle_at_exit

    settle_at_exit()
    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(index_fs(channel, force=True))
    except Exception as exc:  # rattler reports I/O and archive problems with its own types
        raise ChannelError(channel, f"indexing failed: {exc}") from exc
