"""alertsvc channels: one transport per module behind one small contract.

``channels`` is a pure library: no web framework, no database, no globals. Every
channel is built from its arguments (or ``from_options(config_section)``) and does
I/O only in ``send()``. The classes are found by name through the
``alertsvc.channels`` entry point group (see :func:`load_channel_classes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Final

from channels.base import (
    AMBIGUOUS,
    Channel,
    ChannelConfigError,
    ChannelError,
    ChannelName,
    Message,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
)

__all__ = [
    "AMBIGUOUS",
    "ENTRY_POINT_GROUP",
    "Channel",
    "ChannelConfigError",
    "ChannelError",
    "ChannelName",
    "Message",
    "PermanentFailure",
    "Receipt",
    "TemporaryFailure",
    "load_channel_classes",
]

ENTRY_POINT_GROUP: Final = "alertsvc.channels"


def load_channel_classes(
    points: Iterable[EntryPoint] | None = None,
) -> dict[str, type[Channel]]:
    """Channel classes by name (``"sms"``, ``"email"``, ``"file"``, ``"memory"``, ...).

    Reads the ``alertsvc.channels`` entry point group of the installed distributions,
    or the given ``points`` (entry points of any group are taken as given). Two entry
    points with one name but different targets are an error.
    """
    if points is None:
        points = entry_points(group=ENTRY_POINT_GROUP)
    classes: dict[str, type[Channel]] = {}
    targets: dict[str, str] = {}
    for point in points:
        if point.name in targets and targets[point.name] != point.value:
            raise RuntimeError(
                f"channel {point.name!r} is declared twice: {targets[point.name]} and {point.value}"
            )
        targets[point.name] = point.value
        classes[point.name] = point.load()
    return classes
