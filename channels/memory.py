"""MemoryChannel: a real channel that keeps what it sends in a list.

Meant for tests and demos: thread-safe, and it can be told to fail its next N sends
with a given :class:`~channels.base.ChannelError`, so retry and failure handling can
be exercised without patching anything.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from typing import Any, Self

from channels.base import ChannelError, Message, Options, Receipt

__all__ = ["MemoryChannel"]


class MemoryChannel:
    """Keeps sent messages in order; ``provider_id`` is ``"memory:<n>"`` (n from 1)."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._sent: list[Message] = []
        self._failures: list[ChannelError] = []
        self._counter = 0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        """Options: ``name`` (default ``"memory"``)."""
        opts = Options("memory", options)
        channel = cls(name=opts.text("name", "memory") or "memory")
        opts.finish()
        return channel

    @property
    def sent(self) -> list[Message]:
        """A copy of the messages sent so far, oldest first."""
        with self._lock:
            return list(self._sent)

    def fail_next(self, count: int, error: ChannelError) -> None:
        """Make the next ``count`` sends raise (a copy of) ``error`` instead of sending."""
        if count < 0:
            raise ValueError("count must not be negative")
        with self._lock:
            self._failures.extend(copy.copy(error) for _ in range(count))

    def clear(self) -> None:
        """Forget sent messages and pending failures."""
        with self._lock:
            self._sent.clear()
            self._failures.clear()

    def send(self, message: Message) -> Receipt:
        """Record ``message``, or raise the next pending failure."""
        with self._lock:
            if self._failures:
                failure = self._failures.pop(0)
            else:
                self._sent.append(message)
                self._counter += 1
                return Receipt(provider_id=f"memory:{self._counter}")
        raise failure

    def close(self) -> None:
        """Nothing to release."""
