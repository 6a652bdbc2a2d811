"""The practitioners' web app: server-rendered pages in the service itself, on the GOV.UK Design
System (``static/govuk/``, served locally: the service is offline).

- ``security``: the session cookie, CSRF tokens, the signed-in user of a page;
- ``render``: Jinja2 templates (``templates/``) and error pages;
- ``oidc``: single sign-on with the council's OpenID Connect provider (authlib), made only
  when ``oidc_issuer`` is set, and silent until someone signs in with it;
- ``routes``: ``account`` (sign-in, sign-out, set-password), ``sso`` (sign-in with the
  council account), ``visits`` (My visits with its
  filters, New visit, progress, delete), ``review`` (a note beside its transcript and audio;
  confirm safeguarding statements; approve; export), ``edit`` (statement by statement; the
  changes from the AI draft), ``speakers`` (each speaker's clip, words and role to confirm),
  ``voice`` (enrol, see and delete your own voice), ``audit_log`` (the audit trail for
  auditors and admins).

The pages reuse the API's own logic (``accept_upload``, ``job_view``, ``load_note``, the
statement, approve, export and erase routes) rather than a second copy of it. Imports: this
package uses ``api`` (its dependencies and route helpers), ``storage`` and ``notes``; only the
app factory imports it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from assistant.auth import FailureThrottle
from assistant.web.oidc import OidcProvider
from assistant.web.render import install_error_pages
from assistant.web.routes import account, audit_log, edit, review, speakers, sso, visits, voice

STATIC = Path(__file__).resolve().parent / "static"
#: Failed sign-ins to one name or from one address are counted over this window.
SIGN_IN_WINDOW_S = 15 * 60


def install(app: FastAPI) -> None:
    """Add the pages, their static files and their error pages to the service (after the API's
    error handlers, which the pages' ones defer to on API paths)."""
    settings = app.state.settings
    app.state.sign_in_throttle = FailureThrottle(
        limit=settings.sign_in_attempts, window_s=SIGN_IN_WINDOW_S
    )
    # made without contacting the provider: discovery waits for the first SSO sign-in
    app.state.oidc = OidcProvider(settings) if settings.oidc_issuer else None
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (account, sso, visits, review, edit, speakers, voice, audit_log):
        app.include_router(module.router)
    install_error_pages(app)


__all__ = ["install"]
