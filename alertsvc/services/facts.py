"""The public facts of a case: re-exported from ``alertsvc/facts.py``, their home (the dispatch worker renders
messages from them too, and must not import the services)."""

from __future__ import annotations

from ..facts import CHILD_FIELDS as CHILD_FIELDS
from ..facts import CIRCUMSTANCE_FIELDS as CIRCUMSTANCE_FIELDS
from ..facts import PURGE_KEEP as PURGE_KEEP
from ..facts import differences as differences
from ..facts import message_facts as message_facts
from ..facts import purged as purged
from ..facts import snapshot as snapshot
