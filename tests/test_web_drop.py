"""New visit: a recording dragged onto the page is the upload's file (the issue's "choose a
file (drag and drop too)"), in Debian's Chromium. The drop is a real DOM drop event carrying a
real file (Playwright cannot drive the operating system's drag), so what is tested is the
page's own handling: the file becomes the input's choice, is named on the page, and uploads.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from assistant.storage import session_scope
from assistant.storage.models import Recording
from tests import test_web_browser
from tests.speech import espeak_available, synthesize
from tests.test_web_browser import CHROMIUM, check_accessibility, fits_320
from tests.test_web_browser_pages import sign_in_as
from tests.web import add_web_user, db

server, browser = test_web_browser.server, test_web_browser.browser

pytestmark = [
    pytest.mark.models,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="apt-get install chromium"),
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed"),
]

DROP = """([names, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))
  const data = new DataTransfer()
  for (const name of names) data.items.add(new File([bytes], name, { type: 'audio/wav' }))
  const zone = document.querySelector('[data-drop-zone]')
  const init = { dataTransfer: data, bubbles: true, cancelable: true }
  zone.dispatchEvent(new DragEvent('dragover', init))
  const over = zone.classList.contains('app-drop-zone--over')
  zone.dispatchEvent(new DragEvent('drop', init))
  return over
}"""


def test_a_dropped_recording_is_the_upload(server, browser, tmp_path):
    srv, settings = server
    add_web_user(settings, "Priya Shah", "practitioner")
    wav = synthesize("Hello, this is the visit recording for today.", tmp_path / "drop.wav")
    b64 = base64.b64encode(wav.read_bytes()).decode()
    page = sign_in_as(browser, srv.base_url, "Priya Shah")
    page.goto("/visits/new")
    assert page.locator("#audio-chosen").inner_text() == ""

    # two files at once: refused on the page, nothing chosen
    assert page.evaluate(DROP, [["a.wav", "b.wav"], b64]) is True
    assert page.locator("#audio-chosen").inner_text() == "Drop one recording at a time."
    assert page.evaluate("document.getElementById('audio').files.length") == 0

    # one file: the input holds it and the page names it
    page.evaluate(DROP, [["visit-3-nov.wav"], b64])
    assert page.evaluate("document.getElementById('audio').files[0].name") == "visit-3-nov.wav"
    assert page.locator("#audio-chosen").inner_text() == "Chosen: visit-3-nov.wav"
    assert not page.evaluate(
        "document.querySelector('[data-drop-zone]').classList.contains('app-drop-zone--over')"
    )
    check_accessibility(page)
    fits_320(page)

    page.fill("#day", "3")
    page.fill("#month", "11")
    page.fill("#year", "2026")
    page.check("#consent")
    page.click("button:has-text('Upload and start')")
    page.wait_for_url("**/visits/*")
    assert "/visits/new" not in page.url, page.locator("main").inner_text()
    # the upload was the dropped file: stored, its sha256 the file's
    rec_id = page.url.rstrip("/").split("/")[-1]
    engine, sessions = db(settings)
    with session_scope(sessions) as s:
        rec = s.get(Recording, rec_id)
        assert rec is not None and rec.size_bytes == wav.stat().st_size
        assert rec.audio_sha256 == hashlib.sha256(wav.read_bytes()).hexdigest()
    engine.dispose()
