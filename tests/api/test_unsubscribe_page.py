"""Only a POST unsubscribes: mail scanners and link previewers send HEAD and GET to every link they see."""

from __future__ import annotations

from sqlmodel import Session

from alertsvc.models import Subscription
from alertsvc.unsubscribe import unsubscribe_token

from ..helpers import add_subscriber


def _status(rt, sub_id: str) -> str:
    with Session(rt.engine) as s:
        return s.get(Subscription, sub_id).status


def test_head_and_get_show_the_page_and_change_nothing_post_unsubscribes(api, rt):
    sub_id = add_subscriber(rt, "+381 64 1112233")
    url = f"/unsubscribe/{unsubscribe_token(rt, sub_id)}"

    head = api.client.head(url)
    assert head.status_code == 200 and head.mimetype == "text/html"
    assert _status(rt, sub_id) == "active"

    get = api.client.get(url)
    assert get.status_code == 200 and "<form" in get.get_data(as_text=True)
    assert _status(rt, sub_id) == "active"

    post = api.client.post(url)  # the page's button
    assert post.status_code == 200
    assert _status(rt, sub_id) == "unsubscribed"


def test_rfc8058_one_click_post_unsubscribes_and_head_before_it_does_not(api, rt):
    sub_id = add_subscriber(rt, "someone@example.org", channel="email")
    url = f"/unsubscribe/{unsubscribe_token(rt, sub_id)}"
    for _ in range(3):  # a scanner probing the List-Unsubscribe URL
        assert api.client.head(url).status_code == 200
    assert _status(rt, sub_id) == "active"
    r = api.client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and _status(rt, sub_id) == "unsubscribed"
