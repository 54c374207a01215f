"""report.html in a real browser: Debian's headless Chromium, driven by Playwright, opens the
report of seeds/ from file:// and is used as a person would (links, search, keyboard, a phone's
width). Screenshots go to test-artifacts/ at the repository root.

Chromium is not optional: without /usr/bin/chromium these tests fail (CI installs it in
.ci/run; locally: apt-get install -y chromium chromium-driver).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dedup import scan, write_report

from .support import ARTIFACTS, seed_id
from .test_html_report import SENTENCE, write_hostile_corpus

# Every test here opens pages in Debian's headless Chromium.
pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def seeds_report_file(seeds_scan, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    write_report(seeds_scan, out)
    return out / "report.html"


class Opened:
    """A page showing ``target`` (a file or a URL), with the requests it made (and the
    Authorization header of each) and the problems it reported."""

    def __init__(self, context, target: Path | str):
        self.url = target.as_uri() if isinstance(target, Path) else target
        self.sent: list[tuple[str, str | None]] = []
        self.problems: list[str] = []
        self.page = context.new_page()
        self.page.on("request", lambda r: self.sent.append((r.url, r.headers.get("authorization"))))
        self.page.on("pageerror", lambda error: self.problems.append(f"error: {error}"))
        self.page.on(
            "console",
            lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None,
        )
        self.page.on(
            "dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss())
        )
        self.page.goto(self.url)

    @property
    def requests(self) -> list[str]:
        return [url for url, _ in self.sent]

    def outside_requests(self) -> list[str]:
        """Requests for anything but the page itself and data: URIs."""
        return [u for u in self.requests if u != self.url and not u.startswith("data:")]

    def texts(self, selector: str) -> str:
        return self.page.eval_on_selector_all(
            selector, "els => els.map(e => e.textContent).join('')"
        )

    def visible(self, selector: str) -> list[str]:
        return [
            el.get_attribute("id")
            for el in self.page.query_selector_all(selector)
            if el.is_visible()
        ]


@pytest.fixture
def opened(browser, seeds_report_file):
    context = browser
    view = Opened(context, seeds_report_file)
    yield view
    view.page.close()


def pair_id(view: Opened, a: str, b: str) -> str:
    selector = f'details.pair[data-a="{seed_id(a)}"][data-b="{seed_id(b)}"]'
    return view.page.get_attribute(selector, "id")


def test_page_makes_no_request_and_reports_no_error(opened):
    opened.page.wait_for_load_state("load")
    assert opened.outside_requests() == []
    assert opened.url in opened.requests
    assert opened.problems == []  # a script refused by the page's CSP would show here


def test_heatmap_cell_opens_the_pair_with_the_shared_sentence_highlighted_in_both_columns(opened):
    target = pair_id(opened, "002", "004")
    opened.page.evaluate(f"document.getElementById('{target}').open = false")
    opened.page.click(f'table.heat a[href="#{target}"] >> nth=0')
    assert opened.page.get_attribute(f"#{target}", "open") is not None
    for side in ("a", "b"):
        assert SENTENCE in opened.texts(f"#{target} .side-{side} .hl"), side
    # Closed again and its cell clicked again: the address bar already holds the
    # pair's hash, so no hashchange fires; the pair must still open.
    opened.page.evaluate(f"document.getElementById('{target}').open = false")
    opened.page.click(f'table.heat a[href="#{target}"] >> nth=0')
    assert opened.page.get_attribute(f"#{target}", "open") is not None
    colours = {
        opened.page.evaluate(
            f"""() => {{
                const span = [...document.querySelectorAll('#{target} .side-{side} .hl')]
                    .find(e => e.textContent.includes('hyper-realistic'));
                return getComputedStyle(span).backgroundColor;
            }}"""
        )
        for side in ("a", "b")
    }
    assert len(colours) == 1  # the same passage, the same colour in both columns
    assert "Subscribe" not in opened.texts(".hl")


def test_boilerplate_is_greyed_out(opened):
    target = pair_id(opened, "000", "001")
    assert "Subscribe" in opened.texts(f"#{target} .side-a .rm")
    grey = opened.page.eval_on_selector(f"#{target} .side-a .rm", "e => getComputedStyle(e).color")
    ink = opened.page.eval_on_selector(f"#{target} .side-a .text", "e => getComputedStyle(e).color")
    assert grey != ink


def test_provenance_groups_are_shown_with_their_members(opened):
    groups = opened.page.eval_on_selector_all(
        "#groups article.group",
        """els => els.map(e => [e.querySelector('h3').textContent.trim(),
                                [...e.querySelectorAll('.members > li > a')].map(a => a.textContent)])""",
    )
    assert groups == [
        ["prov-1 · AFP", ["000", "001"]],
        ["prov-2 · Reuters", ["001", "002", "004"]],
        ["prov-3 · AP", ["002", "003", "004"]],
    ]


def test_search_filters_documents_and_pairs(opened):
    page = opened.page
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "filter"
    page.keyboard.type("003")
    assert opened.visible("li.doc") == ["doc-3"]
    assert len(opened.visible("details.pair")) == 2  # 003 is in two pairs
    page.fill("#filter", "regulators hold")
    assert opened.visible("li.doc") == ["doc-4"]
    assert "1 of 5 documents" in page.text_content("#filter-count")
    page.keyboard.press("Escape")
    assert len(opened.visible("li.doc")) == 5 and len(opened.visible("details.pair")) == 6


def test_keyboard_focus_is_visible(opened):
    page = opened.page
    for _ in range(3):
        page.keyboard.press("Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("", "none"), page.evaluate("document.activeElement.outerHTML")


def test_screenshots_at_laptop_and_phone_width(opened):
    ARTIFACTS.mkdir(exist_ok=True)
    page = opened.page
    page.screenshot(path=str(ARTIFACTS / "report-laptop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()  # as a phone would load it: the columns scroll to their passages at this width
    target = pair_id(opened, "002", "004")
    a = page.locator(f"#{target} .side-a").bounding_box()
    b = page.locator(f"#{target} .side-b").bounding_box()
    assert b["y"] >= a["y"] + a["height"]  # side by side collapses to stacked
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "report-phone.png"), full_page=True)
    for name in ("report-laptop.png", "report-phone.png"):
        assert (ARTIFACTS / name).stat().st_size > 20_000


def test_markup_in_an_article_shows_as_text_and_never_runs(browser, tmp_path):
    context = browser
    out = tmp_path / "report"
    write_report(scan([write_hostile_corpus(tmp_path)]), out)
    view = Opened(context, out / "report.html")
    try:
        shown = view.texts("details.pair .side-a .text")
        assert "<script>alert(1)</script>" in shown and "<img src=x onerror=alert(1)>" in shown
        assert view.page.query_selector("details.pair img") is None
        assert view.problems == []
        assert view.outside_requests() == []
    finally:
        view.page.close()
