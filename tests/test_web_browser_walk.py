"""What a new practitioner tripped over on the review page in a real browser (Debian's Chromium
through Playwright against uvicorn on the test profile)."""

from __future__ import annotations

import pytest

from tests import test_web_browser
from tests.test_web_browser import CHROMIUM
from tests.test_web_browser_pages import sign_in_as
from tests.web import add_web_user, seed_note, write_tone

# the fixtures: a live server with the job worker, Debian's Chromium
server, browser = test_web_browser.server, test_web_browser.browser

pytestmark = [
    pytest.mark.models,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="apt-get install chromium"),
]

#: A note long enough to scroll well past the recording and transcript beside it.
LONG_NOTE = {
    "sections": [
        {
            "key": key,
            "title": title,
            "statements": [
                {"text": f"{title}: point {n} of the visit, as [PERSON_1] told it at length.",
                 "kind": "reported", "speaker": None, "evidence": ["s0001"], "flags": []}
                for n in range(1, 6)
            ],
        }
        for key, title in (
            ("purpose", "Purpose of the visit"),
            ("worries", "Worries"),
            ("working_well", "What is working well"),
            ("parent_carer_views", "Parents' and carers' views"),
        )
    ]
}  # fmt: skip


def _long_note_page(server, browser, tmp_path, *, width: int):
    """A practitioner's review page of LONG_NOTE, with a recording, at ``width`` x 800."""
    srv, settings = server
    owner, _ = add_web_user(settings, "Priya Shah", "practitioner")
    wav = tmp_path / "visit.wav"
    write_tone(wav, seconds=5.0)
    ids = seed_note(settings, owner, audio_path=wav, draft=LONG_NOTE)
    page = sign_in_as(browser, srv.base_url, "Priya Shah")
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"/notes/{ids['note']}")
    return page


def test_play_evidence_keeps_the_page_at_the_statement(server, browser, tmp_path):
    """Play evidence far down a long note jumped the page up to the transcript (the panel
    beside the note was meant to stay in view, but a floated column gave it no room to), so
    the statement being checked went off the screen and the player with it."""
    page = _long_note_page(server, browser, tmp_path, width=1100)
    link = page.locator(".app-statement .app-evidence-link").nth(15)
    link.scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    assert before > 800  # far below where the transcript starts
    link.click()
    page.wait_for_function("document.getElementById('visit-audio').currentTime >= 0")
    assert page.evaluate("window.scrollY") == before
    box = link.bounding_box()
    assert box is not None and 0 <= box["y"] < 800
    # the player and the highlighted line are in view beside it
    top, bottom = page.evaluate(
        "(r => [r.top, r.bottom])(document.getElementById('visit-audio').getBoundingClientRect())"
    )
    assert 0 <= top and bottom <= 800
    line = page.locator(".app-segment.app-highlight").bounding_box()
    assert line is not None and 0 <= line["y"] < 800


def test_play_evidence_on_a_phone_keeps_the_statement_in_view(server, browser, tmp_path):
    """At 375 px the transcript is under the note, and Play evidence scrolled the page down to
    its line: the practitioner lost the statement they were checking. The recording plays from
    the evidence and the page stays at the statement."""
    page = _long_note_page(server, browser, tmp_path, width=375)
    statement = page.locator(".app-statement").nth(3)
    link = statement.locator(".app-evidence-link")
    link.scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    link.click()
    page.wait_for_function("!document.getElementById('visit-audio').paused")
    assert page.evaluate("window.scrollY") == before
    box = statement.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 800, box
    assert "app-highlight" in (statement.get_attribute("class") or "")
    assert page.locator(".app-segment.app-highlight").count() == 1


def test_signed_in_as_reads_on_one_line_on_a_phone(server, browser):
    """At 375 px the Sign out button took the header's whole width (GOV.UK buttons fill a
    phone's), squeezing "Signed in as Priya Shah" into a narrow column of three lines."""
    srv, settings = server
    add_web_user(settings, "Priya Shah", "practitioner")
    page = sign_in_as(browser, srv.base_url, "Priya Shah")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/")
    signed_in = page.locator(".app-signed-in")
    assert signed_in.inner_text() == "Signed in as Priya Shah"
    height = signed_in.bounding_box()["height"]
    line = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.app-signed-in')).lineHeight)"
    )
    assert height < 1.5 * line, (height, line)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_my_visits_on_a_phone_shows_each_visits_status_and_link(server, browser):
    """At 375 px the visits table scrolled sideways inside its box, and its Status and "Open
    note" columns sat past the right edge with nothing to say they were there."""
    srv, settings = server
    owner, _ = add_web_user(settings, "Priya Shah", "practitioner")
    seed_note(settings, owner)
    page = sign_in_as(browser, srv.base_url, "Priya Shah")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/")
    link = page.locator("table a", has_text="Open note").first
    tag = page.locator("table .govuk-tag").first
    for element in (link, tag):
        box = element.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    before = page.evaluate(
        "getComputedStyle(document.querySelector('td[data-label=Status]'), '::before').content"
    )
    assert before == '"Status: "'  # each cell says which column it is
    # the caption spans the list, not a narrow column of one word a line
    caption = page.locator("table caption").bounding_box()
    table = page.locator("table").bounding_box()
    assert caption is not None and table is not None
    assert caption["width"] >= 0.9 * table["width"], (caption, table)
    # a wide screen keeps the table as it was
    page.set_viewport_size({"width": 1100, "height": 800})
    assert page.locator("table thead").is_visible()
