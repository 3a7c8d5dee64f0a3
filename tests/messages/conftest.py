"""Fixtures for the message tests: a renderer on the real templates and alert facts with distinctive values."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from messages_testkit import HOTLINE, make_facts

from alertsvc.messages import AlertFacts, MessageRenderer


@pytest.fixture
def facts() -> Callable[..., AlertFacts]:
    return make_facts


@pytest.fixture
def renderer() -> MessageRenderer:
    return MessageRenderer(hotline=HOTLINE, sms_max_segments=4, sms_ascii=False)


@pytest.fixture
def make_renderer() -> Callable[..., MessageRenderer]:
    def make(**changes: object) -> MessageRenderer:
        options: dict[str, object] = {"hotline": HOTLINE, "sms_max_segments": 4, "sms_ascii": False} | changes
        return MessageRenderer(**options)  # type: ignore[arg-type]

    return make
