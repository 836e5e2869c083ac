"""The appointment board's day picker and headings, and the stats page's funnels."""

from __future__ import annotations

import re


def test_the_board_has_a_day_picker(desk_client):
    """A date field (pre-set to the first day shown) and a way back to today."""
    page = desk_client.client.get("/board/?day=2025-03-13").get_data(as_text=True)
    form = re.search(r'<form method="get" action="/board/"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None
    assert '<input type="date" name="day" value="2025-03-13">' in form.group(1)
    assert 'href="/board/"' in form.group(1)


def test_the_board_headings_name_the_weekday(desk_client):
    """Thursday 13 and Friday 14 March, in Chinese and English."""
    page = desk_client.client.get("/board/?day=2025-03-13").get_data(as_text=True)
    headings = re.findall(r"<h2>(.*?)</h2>", page, re.S)
    assert [" ".join(h.split()) for h in headings] == ["2025-03-13 周四", "2025-03-14 周五"]
    desk_client.client.get("/lang/en?next=/board/")
    page = desk_client.client.get("/board/").get_data(as_text=True)
    headings = [" ".join(h.split()) for h in re.findall(r"<h2>(.*?)</h2>", page, re.S)]
    assert headings == ["Today 2025-03-10 Mon", "Tomorrow 2025-03-11 Tue"]


def test_a_bad_day_shows_today(desk_client):
    page = desk_client.client.get("/board/?day=2025-02-30").get_data(as_text=True)
    assert 'value="2025-03-10"' in page


def test_stats_show_a_funnel_for_every_campaign(desk_client):
    """Maintenance, deferred work, seasonal and follow-up, each with its six stages."""
    page = desk_client.client.get("/stats/").get_data(as_text=True)
    shown = re.findall(r'class="funnel-card" data-campaign="([a-z_]+)"', page)
    assert shown[:4] == [
        "maintenance_interval",
        "deferred_work",
        "seasonal",
        "post_service_followup",
    ]
    assert "季节性维护" in page and page.count('<svg class="funnel"') == len(shown)
