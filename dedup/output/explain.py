"""The gate's page, which shows an editor why an article was flagged: the verdict, and each
matched source beside the article with the shared passages highlighted as in the scan
report (its stylesheet and colours). The page is static and holds no data: its script
(``templates/explain.js``) asks the service's API with the token and puts what comes back
into the page as text only. The service serves it at ``GET /``.
"""

from __future__ import annotations

from markupsafe import Markup

from ..util.version import dedup_version
from .page import inline_script, template_environment


def render_explain_page(index: str) -> tuple[str, str]:
    """The page for the service of ``index`` (shown, never a password), and the
    Content-Security-Policy it is served with: its own script, inline styles, requests to
    its own origin only, no frames, no forms sent, no base URL."""
    script, script_hash = inline_script("explain.js")
    csp = (
        f"default-src 'none'; script-src '{script_hash}'; style-src 'unsafe-inline'; "
        "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"
    )
    page = (
        template_environment()
        .get_template("explain.html")
        .render(script=script, csp=Markup(csp), index=index, version=dedup_version())
    )
    # The header adds what a <meta> policy cannot say: no page may frame this one.
    return page, csp + "; frame-ancestors 'none'"
