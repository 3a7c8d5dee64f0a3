"""FileChannel: appends each message as one JSON line to a file (an outbox).

Safe for many threads and many processes writing the same file: each send opens the
file in append mode, takes an exclusive ``flock`` and writes the whole line with one
``write`` loop before unlocking, so lines never interleave.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from channels.base import Message, Options, Receipt, TemporaryFailure

__all__ = ["FileChannel"]


class FileChannel:
    """Writes ``{"channel","address","kind","subject","text"}`` (plus
    ``"unsubscribe_url"`` and ``"reference"`` when set) as one UTF-8 JSON line."""

    def __init__(self, path: str | os.PathLike[str], *, name: str = "file") -> None:
        self.name = name
        self.path = Path(path)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        """Options: ``path`` (required), ``name`` (default ``"file"``)."""
        opts = Options("file", options)
        channel = cls(opts.required_text("path"), name=opts.text("name", "file") or "file")
        opts.finish()
        return channel

    @staticmethod
    def _record(message: Message) -> dict[str, Any]:
        record: dict[str, Any] = {
            "channel": message.channel,
            "address": message.address,
            "kind": message.kind,
            "subject": message.subject,
            "text": message.text,
        }
        if message.unsubscribe_url is not None:
            record["unsubscribe_url"] = message.unsubscribe_url
        if message.reference is not None:
            record["reference"] = message.reference
        return record

    def send(self, message: Message) -> Receipt:
        """Append one line; ``provider_id`` is ``"file:<reference or uuid4 hex>"``."""
        line = json.dumps(self._record(message), ensure_ascii=False) + "\n"
        data = line.encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        except OSError as exc:
            raise TemporaryFailure(
                f"cannot append to outbox file ({exc.strerror or type(exc).__name__})",
                code="file",
            ) from exc
        return Receipt(provider_id=f"file:{message.reference or uuid.uuid4().hex}")

    def close(self) -> None:
        """Nothing is kept open between sends."""
