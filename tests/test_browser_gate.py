"""The gate's page (``GET /``) in Debian's headless Chromium, against a real ``dedup gate
serve`` on a loopback port: an editor gives the token once, pastes an article or opens an
indexed one by id, and sees each matched source beside it with the shared passages
highlighted; article markup stays text."""

from __future__ import annotations

import re

import httpx
import pytest

from dedup.gate import Gate

from .support import ARTIFACTS, SEEDS, seed_id
from .test_browser import Opened
from .test_server import TOKEN, dedup_serve, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE_SHARED = (
    "The ministry said on Monday that the new rules, which <script>alert(1)</script> take "
    "effect next month, would apply to every company that sells <img src=x onerror=alert(1)> "
    "devices in the country and to all of the importers that supply them with parts."
)


def seed_text(prefix: str) -> str:
    return (SEEDS / seed_id(prefix)).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """A served index holding seeds 000-003 and an article carrying markup."""
    index = tmp_path_factory.mktemp("gate") / "index.db"
    with Gate(index) as gate:
        for prefix in ("000", "001", "002", "003"):
            gate.add({"id": prefix, "text": seed_text(prefix)})
        gate.add(
            {"id": "<b>hostile</b>", "text": f"A wire report on the rules.\n\n{HOSTILE_SHARED}\n"}
        )
    port = free_port()
    with dedup_serve("--index", str(index), "--port", str(port)) as wait_for:
        wait_for("dedup gate ready")
        yield f"http://127.0.0.1:{port}"


class Page(Opened):
    """The gate's page in a new tab."""

    def __init__(self, context, url: str):
        self.service = url
        super().__init__(context, url + "/")

    def give_token(self) -> None:
        self.page.fill("#token", TOKEN)
        self.page.click("#token-form button")

    def verdict(self) -> str:
        self.page.wait_for_selector("#result:not([hidden])")
        return self.page.text_content("#verdict") or ""

    def highlighted(self, match: str, side: int) -> list[str]:
        """The highlighted runs of one match's side (0: the article, 1: the source),
        adjacent highlighted spans joined."""
        return self.page.eval_on_selector_all(
            f'article.match[data-id="{match}"] .side:nth-child({side + 1}) .text > span',
            """spans => {
              const runs = []; let open = false;
              for (const s of spans) {
                if (s.classList.contains("hl")) {
                  if (open) runs[runs.length - 1] += s.textContent; else runs.push(s.textContent);
                  open = true;
                } else open = false;
              }
              return runs;
            }""",
        )


def api(service: str, method: str, path: str, **kwargs):
    return httpx.request(
        method, service + path, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60, **kwargs
    )


def test_a_pasted_article_is_shown_beside_its_sources_with_the_passages_highlighted(
    browser, service
):
    view = Page(browser, service)
    try:
        assert view.page.is_visible("#token-box")  # asked for first
        view.give_token()
        text = seed_text("004")
        view.page.fill("#article", text)
        view.page.click("#check-form button")
        shown = view.verdict()
        expected = api(service, "POST", "/check", json={"id": "pasted", "text": text}).json()
        assert shown.startswith(expected["verdict"]) and expected["verdict"] == "syndicated"
        assert f"{round(100 * expected['coverage'])}%" in shown
        matches = view.page.eval_on_selector_all(
            "article.match", "els => els.map(e => e.dataset.id)"
        )
        assert matches == [m["id"] for m in expected["matches"]]
        for match in expected["matches"]:
            source = api(service, "GET", f"/documents/{match['id']}").json()["text"]
            ours = [text[p["start"] : p["end"]] for p in match["passages"]]
            theirs = [source[p["other_start"] : p["other_end"]] for p in match["passages"]]
            assert _runs(view.highlighted(match["id"], 0)) == _runs(ours)
            assert _runs(view.highlighted(match["id"], 1)) == _runs(theirs)
            if match["agency"]:
                assert f"agency: {match['agency']}" in view.page.text_content(
                    f'article.match[data-id="{match["id"]}"] .meta'
                )
        # Every request went to the service, each API call with the token.
        assert all(url.startswith(service + "/") for url in view.requests)
        api_calls = [auth for url, auth in view.sent if url != service + "/"]
        assert api_calls and set(api_calls) == {f"Bearer {TOKEN}"}
        assert view.problems == []
        ARTIFACTS.mkdir(exist_ok=True)
        view.page.screenshot(path=str(ARTIFACTS / "gate-page.png"), full_page=True)
        # Asked once: a reload in the same tab keeps the token.
        view.page.reload()
        assert not view.page.is_visible("#token-box")
    finally:
        view.page.close()


def _runs(texts: list[str]) -> list[str]:
    """Highlighted texts compared as runs of words (overlapping or touching passages make
    one run on the page)."""
    return sorted(set(re.sub(r"\s+", " ", " ".join(texts)).split(" ")))


def test_an_indexed_article_opened_by_id_is_not_matched_with_itself(browser, service):
    view = Page(browser, service)
    try:
        view.give_token()
        view.page.fill("#doc-id", "002")
        view.page.click("#open-form button")
        shown = view.verdict()
        expected = api(
            service, "POST", "/check?exclude=002", json={"id": "002", "text": seed_text("002")}
        ).json()
        assert shown.startswith(expected["verdict"])
        matches = view.page.eval_on_selector_all(
            "article.match", "els => els.map(e => e.dataset.id)"
        )
        assert matches == [m["id"] for m in expected["matches"]] and "002" not in matches
        assert {"001", "003"} <= set(matches)
        assert view.page.input_value("#article") == seed_text("002")
        assert view.problems == []
    finally:
        view.page.close()


def test_markup_in_an_article_and_an_id_shows_as_text_and_never_runs(browser, service):
    view = Page(browser, service)
    try:
        view.give_token()
        view.page.fill("#article", f"Our own opening line about the rules.\n\n{HOSTILE_SHARED}\n")
        view.page.click("#check-form button")
        view.verdict()
        view.page.wait_for_selector("article.match")
        card = view.page.text_content("article.match") or ""
        assert "<b>hostile</b>" in card  # the id, as text
        assert "<script>alert(1)</script>" in card and "<img src=x onerror=alert(1)>" in card
        assert view.page.query_selector("article.match img") is None
        assert view.page.query_selector("article.match b") is None
        assert view.problems == []  # no dialog, no script refused
        # The page came with its Content-Security-Policy.
        headers = httpx.get(service + "/").headers
        assert "script-src 'sha256-" in headers["content-security-policy"]
        assert "connect-src 'self'" in headers["content-security-policy"]
    finally:
        view.page.close()


def test_a_wrong_token_is_asked_again(browser, service):
    view = Page(browser, service)
    try:
        view.page.fill("#token", "not-the-token")
        view.page.click("#token-form button")
        view.page.fill("#article", seed_text("004"))
        view.page.click("#check-form button")
        view.page.wait_for_selector("#token-box:not([hidden])")
        assert "invalid bearer token" in (view.page.text_content("#status") or "")
    finally:
        view.page.close()
