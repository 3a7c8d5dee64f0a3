"""Shared values for the message tests: alert facts with distinctive values, URLs, the expected local time."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from alertsvc.messages import CHANNELS as CHANNELS  # the enums are the one list; re-exported for the tests
from alertsvc.messages import LANGUAGES as LANGUAGES
from alertsvc.messages import AlertFacts

HOTLINE = "0800 116 116"  # not the default "116 000": proves the hotline comes from the settings
LINK = "https://alerts.example.rs/a/RS-2026-000123"
UNSUBSCRIBE = "https://alerts.example.rs/unsubscribe/tok-Qm7x"
# 23.11.2026 13:05 UTC is 14:05 in Belgrade (CET, UTC+1)
SEEN_AT = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)
SEEN_LOCAL = {"sr-Latn": "23.11.2026. u 14:05", "sr-Cyrl": "23.11.2026. у 14:05", "en": "23 Nov 2026, 14:05"}
KINDS = ("confirmation", "alert", "update", "closing")


def make_facts(**changes: object) -> AlertFacts:
    base = AlertFacts(
        reference="RS-2026-000123",
        child_name="Zvezdana Kvrgović",
        age=9,
        sex="f",
        description="ljubičasta jakna Xq7, roze ranac",
        last_seen_place="Trg Kvazara 7",
        last_seen_at=SEEN_AT,
        vehicle="sivi karavan Zq",
        plate="BG-777-QZ",
        suspect="muškarac Wy9, oko 40 godina",
        area_name="Grad Beograd",
        link=LINK,
        update_text="Viđena u tramvaju 2 Pk4.",
        outcome="found",
    )
    return dataclasses.replace(base, **changes)
