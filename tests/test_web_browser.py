"""The web app in a real browser: Debian's Chromium driven by Playwright against uvicorn on the
test profile, with the job worker running.

A practitioner sets a password from their link, signs in, uploads a generated visit, watches it
reach done, opens the review, plays a statement's evidence (the audio element's position moves
to where the evidence starts), approves and signs out; a second practitioner cannot open the
note. On a seeded draft with a safeguarding statement: confirm it (by keyboard), edit, see the
changes from the AI draft, approve, download the Word file and read it back, filter My visits,
delete the visit. axe-core (``tests/axe/``) checks every page on the way and must find nothing;
the new pages must also fit 320 px without scrolling sideways.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from assistant.auth import hash_token, new_token
from assistant.storage import repo, session_scope
from tests.conftest import LiveServer, free_port, make_settings
from tests.speech import VISIT_SCRIPT, espeak_available, synthesize_dialogue
from tests.web import FLAGGED, PASSWORD, add_web_user, db, seed_note

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "axe" / "axe.min.js"

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

pytestmark = [
    pytest.mark.models,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="apt-get install chromium"),
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed"),
]


@pytest.fixture
def server(tmp_path, engines):
    from assistant.api.app import create_app

    settings = make_settings(tmp_path)  # the worker runs: uploads are processed
    with LiveServer(create_app(settings, engines=engines), free_port()) as srv:
        yield srv, settings


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        yield chromium
        chromium.close()


def check_accessibility(page) -> None:
    """axe-core on the page as it is now: no violations of any rule it runs by default."""
    page.add_script_tag(content=AXE.read_text())  # the context bypasses the page's CSP
    result = page.evaluate("async () => await axe.run(document)")
    found = [
        {"rule": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]
    assert found == [], f"{page.url}: {json.dumps(found, indent=1)}"


def screenshot(page, tmp_path: Path) -> None:
    """The review page as the README shows it (docs/img/review.png), rewritten when
    CASEASSIST_UPDATE_SCREENSHOT=1; otherwise it goes to the test's own folder."""
    docs = Path(__file__).resolve().parent.parent / "docs" / "img" / "review.png"
    dest = docs if os.environ.get("CASEASSIST_UPDATE_SCREENSHOT") == "1" else tmp_path / "r.png"
    dest.parent.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 900})
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(dest), type="png")
    assert dest.stat().st_size > 10_000


def password_link(settings, user_id: str) -> str:
    secret = "browser-test-link-" + user_id
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        repo.create_password_link(
            session=s, user_id=user_id, token_hash=hash_token(secret), valid_for=timedelta(hours=1)
        )
    engine.dispose()
    return f"/set-password?token={secret}"


def test_practitioner_journey(server, browser, tmp_path):
    srv, settings = server
    # long enough for two 30-second windows, so some evidence starts after the first
    wav = synthesize_dialogue(VISIT_SCRIPT[4:12], tmp_path / "visit.wav")
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        uid = repo.create_user(
            session=s, name="Priya Shah", role="practitioner", token_hash=hash_token(new_token())
        ).id
    engine.dispose()
    add_web_user(settings, "Ben Cole", "practitioner")

    context = browser.new_context(base_url=srv.base_url, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # first sign-in: set a password from the link, then sign in with it
    page.goto(password_link(settings, uid))
    check_accessibility(page)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("button:has-text('Set password')")
    page.wait_for_url("**/sign-in?done=password")
    check_accessibility(page)
    page.fill("#name", "Priya Shah")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(srv.base_url + "/")
    assert page.locator("h1").inner_text() == "My visits"
    check_accessibility(page)

    # a new visit, with consent
    page.click("a:has-text('New visit') >> nth=0")
    page.wait_for_url("**/visits/new")
    check_accessibility(page)
    page.set_input_files("#audio", str(wav))
    page.fill("#day", "3")
    page.fill("#month", "11")
    page.fill("#year", "2026")
    page.fill("#visit_type", "home visit")
    page.check("#consent")
    page.click("button:has-text('Upload and start')")
    page.wait_for_url("**/visits/*")
    check_accessibility(page)  # while it runs (or already done)

    # the page follows the job by itself until the note is ready
    # (10 minutes: a loaded 2-core machine; about one unloaded)
    page.locator("#review-link, .govuk-error-summary").first.wait_for(timeout=600_000)
    review_link = page.locator("#review-link")
    assert review_link.is_visible(), page.locator("main").inner_text()
    check_accessibility(page)
    review_link.click()
    page.wait_for_url("**/notes/*")
    note_url = page.url
    check_accessibility(page)

    # a statement's evidence: the player moves to where it starts, its lines are highlighted
    links = page.locator(".app-evidence-link")
    assert links.count() > 0, "the draft cites the transcript"
    starts = [float(links.nth(i).get_attribute("data-start")) for i in range(links.count())]
    latest = max(range(len(starts)), key=starts.__getitem__)
    assert starts[latest] > 0, "some statement rests on a later part of the visit"
    page.wait_for_function("document.getElementById('visit-audio').readyState >= 1")
    assert page.evaluate("document.getElementById('visit-audio').currentTime") == 0
    links.nth(latest).click()
    position = page.evaluate("document.getElementById('visit-audio').currentTime")
    assert starts[latest] - 0.05 <= position < starts[latest] + 2.0
    first_cited = links.nth(latest).get_attribute("data-segments").split()[0]
    assert "app-highlight" in page.locator(f"#seg-{first_cited}").get_attribute("class")
    check_accessibility(page)
    screenshot(page, tmp_path)

    # confirm each statement that raises a safeguarding category, then approve and sign out
    while page.locator(".app-confirm__button").count():
        page.locator(".app-confirm__button").first.click()
        page.wait_for_load_state()
    page.check("#declaration")
    page.click("#approve")
    page.wait_for_url("**/notes/*?approved=1")
    assert page.locator("#note-status").inner_text() == "Approved"
    assert page.locator("#approve").count() == 0
    check_accessibility(page)
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/sign-in?done=signed-out")
    check_accessibility(page)
    page.goto(note_url)
    assert "/sign-in?next=" in page.url  # signed out for real

    # another practitioner cannot open it
    other = browser.new_context(base_url=srv.base_url, bypass_csp=True).new_page()
    other.goto("/sign-in")
    other.fill("#name", "Ben Cole")
    other.fill("#password", PASSWORD)
    other.click("button:has-text('Sign in')")
    other.wait_for_url(srv.base_url + "/")
    assert "/notes/" not in other.content()
    response = other.goto(note_url)
    assert response.status == 404
    check_accessibility(other)
    assert errors == [], errors


def fits_320(page) -> None:
    """WCAG 1.4.10 reflow: at 320 CSS px nothing needs scrolling sideways."""
    page.set_viewport_size({"width": 320, "height": 640})
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > 321 && !el.closest('.app-table-scroll'))
        .slice(0, 5).map((el) => el.tagName + '.' + el.className + '#' + el.id)"""
    )
    page.set_viewport_size({"width": 1100, "height": 900})
    assert width <= 320, f"{page.url} is {width} px wide at 320: {wide}"


def test_confirm_edit_approve_download_word_and_delete(server, browser, tmp_path):
    import io

    from docx import Document

    srv, settings = server
    owner, _ = add_web_user(settings, "Priya Shah", "practitioner")
    ids = seed_note(settings, owner, draft=FLAGGED)
    page = browser.new_context(base_url=srv.base_url, bypass_csp=True).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/sign-in")
    page.fill("#name", "Priya Shah")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(srv.base_url + "/")

    # approval is refused while the safeguarding statement is unconfirmed
    page.goto(f"/notes/{ids['note']}")
    assert "Safeguarding: suicidal ideation" in page.locator("#st-1-0").inner_text()
    page.click("#approve")
    assert "not confirmed" in page.locator(".govuk-error-summary").inner_text()
    check_accessibility(page)
    fits_320(page)
    page.focus(".app-confirm__button")  # by keyboard
    page.keyboard.press("Enter")
    page.wait_for_url("**confirmed=1**")
    assert page.locator(".app-confirmed").count() == 1
    assert page.locator(".app-confirm__button").count() == 0
    check_accessibility(page)

    # edit a statement and add one; each save is a revision
    page.click("#edit-link")
    page.wait_for_url("**/edit")
    check_accessibility(page)
    fits_320(page)
    page.fill("#text-edit-purpose-0", "Visit to see [PERSON_1] at home after school.")
    page.click("#edit-purpose-0 button[value=save]")
    page.wait_for_url("**/edit?saved=save")
    page.fill("#text-add-actions", "Call the school on Monday.")
    page.select_option("#kind-add-actions", "agreed_action")
    page.click("#add-actions button")
    page.wait_for_url("**/edit?saved=add")
    assert "Saved as revision 3" in page.locator(".govuk-notification-banner").inner_text()
    check_accessibility(page)
    page.goto(f"/notes/{ids['note']}/changes")
    summary = page.locator("#changes-summary").inner_text()
    assert "1 kept unchanged, 1 edited, 0 removed" in summary and "1 added" in summary
    check_accessibility(page)
    fits_320(page)

    # approve, then download the Word file and read it back
    page.goto(f"/notes/{ids['note']}")
    page.check("#declaration")
    page.click("#approve")
    page.wait_for_url("**/notes/*?approved=1")
    assert "1 edited" in page.locator("#approval-record").inner_text()
    check_accessibility(page)
    with page.expect_download() as download:
        page.click("#download-docx")
    doc = Document(io.BytesIO(Path(download.value.path()).read_bytes()))
    text = [p.text for p in doc.paragraphs]
    assert "Observed: Visit to see [PERSON_1] at home after school. [s0001]" in text
    assert "Agreed action: Call the school on Monday. (check: Added by the practitioner)" in text
    footer = " ".join(p.text for p in doc.sections[0].footer.paragraphs)
    assert "Approved by Priya Shah" in footer and "1 edited" in footer

    # My visits, filtered; then delete the visit
    page.goto("/")
    page.select_option("#status", "approved")
    page.click("#apply-filter")
    page.wait_for_url("**status=approved**")
    assert "1 visit found" in page.locator("caption").inner_text()
    check_accessibility(page)
    fits_320(page)
    page.goto(f"/visits/{ids['rec']}/delete")
    check_accessibility(page)
    fits_320(page)
    page.click("#delete")
    assert "Tick the box" in page.locator(".govuk-error-summary").inner_text()
    check_accessibility(page)
    page.check("#confirm")
    page.click("#delete")
    page.wait_for_url("**/?deleted=1")
    assert "The visit was deleted." in page.content()
    check_accessibility(page)
    assert errors == [], errors
