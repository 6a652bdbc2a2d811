"""The Speakers page, "copy this section", the audit log, My visits' search and Your voice in a
real browser (Debian's Chromium through Playwright against uvicorn on the test profile), on one
seeded, diarised visit with audio: axe-core on every page, no sideways scrolling at 320 px, and
the review done with the keyboard alone (play a statement's evidence, confirm it, approve).
"""

from __future__ import annotations

import pytest

from assistant.storage import repo, session_scope
from tests import test_web_browser
from tests.test_web_browser import CHROMIUM, check_accessibility, fits_320
from tests.web import PASSWORD, add_web_user, db, seed_note, seed_speakers, write_tone

# the fixtures: a live server with the job worker, Debian's Chromium
server, browser = test_web_browser.server, test_web_browser.browser

pytestmark = [
    pytest.mark.models,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="apt-get install chromium"),
]


def sign_in_as(browser, base_url: str, name: str, **context):
    page = browser.new_context(base_url=base_url, bypass_csp=True, **context).new_page()
    page.goto("/sign-in")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(base_url + "/")
    return page


def tab_to(page, selector: str, *, key: str = "Tab", limit: int = 300) -> None:
    """Press ``key`` until the focused element matches ``selector`` (the keyboard alone)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} is not reachable with {key}")


def audio_at(page, selector: str) -> float:
    return page.evaluate(f"document.querySelector('{selector}').currentTime")


def test_speakers_copy_audit_log_and_a_keyboard_only_review(server, browser, tmp_path):
    srv, settings = server
    owner, _ = add_web_user(settings, "Priya Shah", "practitioner")
    add_web_user(settings, "Ada Audit", "auditor")
    wav = tmp_path / "visit.wav"
    write_tone(wav, seconds=20.0)
    ids = seed_speakers(settings, owner, audio_path=wav)
    page = sign_in_as(
        browser, srv.base_url, "Priya Shah", permissions=["clipboard-read", "clipboard-write"]
    )
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # My visits: search by the visit's reference
    page.fill("#q", ids["rec"][:8])
    page.click("#apply-filter")
    page.wait_for_url("**q=**")
    assert "1 visit found" in page.locator("caption").inner_text()
    check_accessibility(page)
    fits_320(page)

    # Your voice: the page, and a sample refused (a tone, no speech) shown in its form
    page.click("a.govuk-service-navigation__link:has-text('Your voice')")
    page.wait_for_url("**/voice")
    check_accessibility(page)
    fits_320(page)
    tone = tmp_path / "tone.wav"  # (the visit's file is encrypted in place by now)
    write_tone(tone, seconds=12.0)
    page.set_input_files("#audio", str(tone))
    page.click("#enrol")
    assert "No speech was detected" in page.locator("#audio-error").inner_text()
    check_accessibility(page)
    fits_320(page)

    # progress links to the speakers
    page.goto(f"/visits/{ids['rec']}")
    check_accessibility(page)
    fits_320(page)
    page.click("#speakers-link")
    page.wait_for_url("**/speakers")
    check_accessibility(page)
    fits_320(page)
    # each clip is the recording from the speaker's first substantial turn (a media fragment:
    # no script needed): loaded, the child's starts at 12 s
    page.evaluate("document.getElementById('clip-S3').preload = 'metadata'")
    page.evaluate("document.getElementById('clip-S3').load()")
    page.wait_for_function("document.getElementById('clip-S3').readyState >= 1")
    assert 12.0 <= audio_at(page, "#clip-S3") < 12.5
    # played, it stops by itself where the turn ends (13.5 s)
    page.evaluate("document.getElementById('clip-S3').play()")
    page.wait_for_function("document.getElementById('clip-S3').paused", timeout=15_000)
    assert 13.3 <= audio_at(page, "#clip-S3") < 14.0
    # S2 is a carer: chosen and saved with the keyboard
    page.focus("#role-S2")
    page.select_option("#role-S2", "carer")
    tab_to(page, "#save-speakers")
    page.keyboard.press("Enter")
    page.wait_for_url("**/speakers?saved=**")
    assert "roles saved" in page.locator("#saved-message").inner_text()
    assert page.locator("#role-S2").input_value() == "carer"
    check_accessibility(page)

    # review: copy a section to the clipboard, as the txt export writes it, names back
    page.goto(f"/notes/{ids['note']}")
    check_accessibility(page)
    fits_320(page)
    page.locator(".app-copy__button").nth(1).click()
    page.wait_for_function("document.getElementById('copy-status-2').textContent === 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == (
        "Parents' views\n--------------\n* He goes to bed at eight now. — Carer [s0004]\n"
    )
    plain = page.request.get(f"/notes/{ids['note']}/sections/parents_views/text")
    assert plain.text() == copied

    # the keyboard alone: play the safeguarding statement's evidence, confirm it, approve
    page.goto(f"/notes/{ids['note']}")
    page.wait_for_function("document.getElementById('visit-audio').readyState >= 1")
    tab_to(page, "#st-0-1 .app-evidence-link")
    page.keyboard.press("Enter")
    assert 16.0 - 0.05 <= audio_at(page, "#visit-audio") < 18.0  # s0008 starts at 16 s
    assert "app-highlight" in page.locator("#seg-s0008").get_attribute("class")
    tab_to(page, "#st-0-1 .app-confirm__button", key="Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**confirmed=1**")
    assert page.locator(".app-confirmed").count() == 1
    tab_to(page, "#declaration")
    page.keyboard.press("Space")
    assert page.locator("#declaration").is_checked()
    tab_to(page, "#approve")
    page.keyboard.press("Enter")
    page.wait_for_url("**approved=1")
    assert page.locator("#note-status").inner_text() == "Approved"
    check_accessibility(page)

    # the auditor's audit log: the chain check, filters
    audit = sign_in_as(browser, srv.base_url, "Ada Audit")
    audit.click("a.govuk-service-navigation__link:has-text('Audit log')")
    audit.wait_for_url("**/audit")
    check_accessibility(audit)
    audit.click("#check-chain")
    audit.wait_for_url("**check=1**")
    assert "Chain intact" in audit.locator("#chain-check").inner_text()
    check_accessibility(audit)
    fits_320(audit)
    audit.select_option("#action", "note.approve")
    audit.click("#apply-filter")
    audit.wait_for_url("**action=note.approve**")
    assert "1 record found" in audit.locator("caption").inner_text()
    check_accessibility(audit)
    fits_320(audit)

    # a manager in Priya's team: Team visits, naming the team and whose each visit is
    lead, _ = add_web_user(settings, "Lee Lead", "manager")
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        for uid in (owner, lead):
            repo.set_team(session=s, user_id=uid, team="North CIN")
    engine.dispose()
    team = sign_in_as(browser, srv.base_url, "Lee Lead")
    assert team.locator("h1").inner_text() == "Team visits"
    assert "North CIN" in team.locator("#team-scope").inner_text()
    assert "Priya Shah" in team.locator("table").inner_text()
    check_accessibility(team)
    fits_320(team)
    assert errors == [], errors


def test_speakers_page_for_one_voice_merged_with_the_enrolled_one(server, browser):
    """The one voice found matched the owner's enrolled voice but reads as a conversation:
    in the browser the page says why nobody was named, leaves the role unknown, and passes
    axe and 320 px."""
    srv, settings = server
    owner, _ = add_web_user(settings, "Mo Merged", "practitioner")
    ids = seed_speakers(settings, owner, one_voice_enrolled=True)
    page = sign_in_as(browser, srv.base_url, "Mo Merged")
    page.goto(f"/visits/{ids['rec']}/speakers")
    body = page.locator("main").inner_text()
    assert "Your enrolled voice was heard, but only one voice was found" in body
    assert "Recognised by your voice" not in body
    assert page.locator("#role-S1").input_value() == "unknown"
    check_accessibility(page)
    fits_320(page)


def test_new_visit_errors_at_once_the_date_boxes_and_the_approval_declaration(
    server, browser, tmp_path
):
    """New visit names every problem at once, each summary link going to its field, and asks
    for the recording again; My visits' dates are the same three boxes; approving needs the
    declaration ticked."""
    srv, settings = server
    owner, _ = add_web_user(settings, "Priya Shah", "practitioner")
    ids = seed_note(settings, owner)
    page = sign_in_as(browser, srv.base_url, "Priya Shah")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # My visits: the date filter is three boxes, read back as typed
    assert page.locator('input[type="date"]').count() == 0
    page.fill("#from_day", "1")
    page.fill("#from_month", "1")
    page.fill("#from_year", "2020")
    page.click("#apply-filter")
    page.wait_for_url("**from_day=1**")
    assert page.locator("#from_year").input_value() == "2020"
    check_accessibility(page)
    fits_320(page)

    # New visit: no recording, an impossible date, consent unticked: all three at once
    page.goto("/visits/new")
    page.fill("#day", "31")
    page.fill("#month", "2")
    page.fill("#year", "2026")
    page.fill("#visit_type", "home visit")
    page.click("button:has-text('Upload and start')")
    summary = page.locator(".govuk-error-summary__list a")
    summary.first.wait_for()  # the answer page, not the form still on screen
    assert summary.count() == 3
    assert [summary.nth(i).get_attribute("href") for i in range(3)] == [
        "#audio",
        "#day",
        "#consent",
    ]
    assert "Choose the recording of the visit" in page.locator("#audio-error").inner_text()
    assert "real date" in page.locator("#visit-date-error").inner_text()
    assert "agreed to it" in page.locator("#consent-error").inner_text()
    assert page.locator("#visit_type").input_value() == "home visit"
    assert page.locator("#day").input_value() == "31"
    check_accessibility(page)
    fits_320(page)
    for i, target in enumerate(("audio", "day", "consent")):
        summary.nth(i).click()
        page.wait_for_function(f"document.activeElement?.id === '{target}'")
    # a recording chosen, consent still unticked: choose the recording again
    tone = tmp_path / "tone.wav"
    write_tone(tone, seconds=3.0)
    page.set_input_files("#audio", str(tone))
    page.click("button:has-text('Upload and start')")
    page.wait_for_load_state()
    assert "Choose the recording again" in page.locator("#audio-again").inner_text()
    assert page.locator("#audio").input_value() == ""
    check_accessibility(page)

    # approving without the declaration: refused, the note still a draft
    page.goto(f"/notes/{ids['note']}")
    page.click("#approve")
    assert "Tick the box" in page.locator(".govuk-error-summary").inner_text()
    assert page.locator("#note-status").inner_text() == "Draft"
    check_accessibility(page)
    fits_320(page)
    page.locator(".govuk-error-summary__list a").first.click()
    page.wait_for_function("document.activeElement?.id === 'declaration'")
    page.check("#declaration")
    page.click("#approve")
    page.wait_for_url("**approved=1")
    assert page.locator("#note-status").inner_text() == "Approved"
    assert errors == [], errors
