"""End to end, in a real browser: Debian's Chromium driven by Playwright,
against gunicorn serving a freshly set-up archive (``tests/live.py``).

Playwright cannot download a browser here, so the tests use
``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` installs it
when missing). Without it the module is skipped with a message. Timeouts are
generous safety nets; nothing here measures time.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.live import STAFF, fresh_postgres_database, serve

CHROMIUM = os.environ.get("ARCHIVE_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).parent / "assets" / "axe-core" / "axe.min.js"
PODCAST = "/interviews/cyber-norms-in-us-china-relations/"
ARTICLE = "/interviews/tim-maurer-china-real-time-2016/"

pytestmark = [
    pytest.mark.server,
    pytest.mark.browser,
    pytest.mark.skipif(
        not shutil.which(CHROMIUM),
        reason=f"browser tests need Chromium at {CHROMIUM} "
        "(apt-get install chromium; .ci/run installs it)",
    ),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    database_url = None
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        # The PostgreSQL pass serves from a database of its own.
        database_url = fresh_postgres_database(
            os.environ["DATABASE_URL"], "archive_browser"
        )
    with serve(tmp_path_factory.mktemp("browser-data"), database_url) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


def new_page(browser, site, **options):
    context = browser.new_context(
        base_url=site,
        permissions=["clipboard-read", "clipboard-write"],
        **options,
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.script_errors = errors
    # Chromium reports what the Content-Security-Policy blocked on the
    # console: any of it is a page or admin feature that does not work.
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.csp_refusals = refused
    return page


@pytest.fixture
def page(browser, site):
    page = new_page(browser, site)
    yield page
    assert page.script_errors == []
    assert page.csp_refusals == []
    page.context.close()


def arrived(page):
    """Wait for the page to have placed the turn it was opened at."""
    page.wait_for_selector("html[data-arrived]", state="attached")


def in_view(page, selector) -> bool:
    return page.eval_on_selector(
        selector,
        """el => { const r = el.getBoundingClientRect();
                   return r.top >= 0 && r.top < window.innerHeight; }""",
    )


def partly_in_view(page, selector) -> bool:
    """At least a few lines of it are on screen."""
    return page.eval_on_selector(
        selector,
        """el => { const r = el.getBoundingClientRect();
                   return r.bottom > 60 && r.top < window.innerHeight; }""",
    )


def clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def log_in(page):
    page.goto("/admin/login/")
    page.fill("#id_username", STAFF[0])
    page.fill("#id_password", STAFF[1])
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))


# Finding and landing ------------------------------------------------------------


def test_search_from_home_lands_on_the_marked_turn_with_its_question(page):
    page.goto("/")
    page.fill("#q", "lawyers")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/search/\?q=lawyers"))
    assert "1 result" in page.inner_text(".total")
    page.click("text=Read in context")
    page.wait_for_url(re.compile(r"#t-22$"))
    arrived(page)
    turn = page.locator("#t-22")
    assert "turn--arrived" in turn.get_attribute("class")
    assert turn.locator("mark").first.inner_text().lower() == "lawyers"
    assert in_view(page, "#t-22")
    # The question it answers is in view above it, not scrolled away.
    question = page.locator("#t-22").locator(
        "xpath=preceding-sibling::article[contains(@class,'turn--question')][1]"
    )
    question_id = question.get_attribute("id")
    assert partly_in_view(page, f"#{question_id}")


def test_next_and_previous_hit_move_through_the_matches(page):
    page.goto(PODCAST + "?q=norms")
    hits = page.eval_on_selector_all(".turn--matched", "els => els.map(e => e.id)")
    assert len(hits) >= 3
    page.click("[data-hit=next]")
    page.wait_for_url(re.compile(f"#{hits[0]}$"))
    page.click("[data-hit=next]")
    page.wait_for_url(re.compile(f"#{hits[1]}$"))
    assert in_view(page, f"#{hits[1]}")
    assert page.inner_text(".hits-nav__where") == f"Hit 2 of {len(hits)}"
    # The keyboard: p goes back, n forward.
    page.locator("body").press("p")
    page.wait_for_url(re.compile(f"#{hits[0]}$"))
    page.locator("body").press("p")
    page.wait_for_url(re.compile(f"#{hits[-1]}$"))
    page.locator("body").press("n")
    page.wait_for_url(re.compile(f"#{hits[0]}$"))
    page.click("text=Back to the results")
    page.wait_for_url(re.compile(r"/search/\?q=norms"))


# Copying and citing --------------------------------------------------------------


def test_copy_a_turns_permalink(page, site):
    page.goto(PODCAST)
    page.click("#t-6 .turn__copy")
    assert clipboard(page) == f"{site}{PODCAST}#t-6"
    assert "Link copied" in page.inner_text(".status")


def test_copy_a_citation_with_todays_access_date(page, site):
    page.goto(PODCAST)
    page.click("text=Copy MLA")
    copied = clipboard(page)
    today = page.evaluate(
        """() => { const d = new Date(); const m = ["Jan.", "Feb.", "Mar.",
        "Apr.", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec."];
        return d.getDate() + " " + m[d.getMonth()] + " " + d.getFullYear(); }"""
    )
    assert copied.startswith("Maurer, Tim. “Cyber Norms in U.S.-China Relations.”")
    assert copied.endswith(f"{PODCAST}. Accessed {today}.")
    assert "[date accessed]" not in copied


def test_quote_page_copies_its_citation(page, site):
    page.goto(PODCAST)
    page.click("#t-6 .turn__cite")
    page.wait_for_url(re.compile(r"/q/\d+$"))
    assert page.inner_text("h1").startswith("Tim Maurer")
    page.click("text=Copy Chicago")
    assert clipboard(page).startswith("Maurer, Tim. “Cyber Norms")
    assert clipboard(page).endswith(f"{PODCAST}#t-6.")
    page.click("text=Read it in the transcript")
    page.wait_for_url(re.compile(r"#t-6$"))
    arrived(page)
    assert in_view(page, "#t-6")
    # A short question is shown whole above its answer.
    assert in_view(page, "#t-5")


def test_create_and_follow_a_passage_link(page, site):
    page.goto(PODCAST)
    # Select a few words inside turn 6, as a reader would with the mouse.
    words = page.evaluate(
        """() => {
            const body = document.querySelector('#t-6 .turn__body p');
            const text = body.firstChild;
            const words = text.data.split(' ');
            const start = text.data.indexOf(words[2]);
            const end = text.data.indexOf(words[6]) + words[6].length;
            const range = document.createRange();
            range.setStart(text, start);
            range.setEnd(text, end);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            return selection.toString();
        }"""
    )
    page.click(".passage-button")
    link = clipboard(page)
    assert link.startswith(f"{site}{PODCAST}#t-6:~:text=")
    # A fresh reader follows it: the words are marked and in view.
    reader = new_page(page.context.browser, site)
    reader.goto(link)
    arrived(reader)
    marked = " ".join(
        reader.eval_on_selector_all("mark.passage", "ms => ms.map(m => m.textContent)")
    )
    assert " ".join(marked.split()) == " ".join(words.split())
    assert in_view(reader, "#t-6")
    assert reader.script_errors == []
    reader.context.close()


# Curation shows at once -------------------------------------------------------------


def test_featured_quote_marked_in_the_admin_appears_on_the_home_page(page):
    log_in(page)
    page.goto("/admin/archive/turn/?q=lawyers")
    page.check("input[name=_selected_action]")
    page.select_option("select[name=action]", "feature")
    page.click("button[name=index]")
    assert "1 turn(s) featured" in page.inner_text(".messagelist")
    page.goto("/")
    featured = page.inner_text(".featured")
    assert "the diplomats" in featured
    page.click(".featured a:has-text('Cyber Norms')")
    page.wait_for_url(re.compile(r"#t-22$"))


def test_admin_edit_shows_up_in_search(page):
    log_in(page)
    page.goto("/admin/archive/turn/?q=Mandiant")
    page.click("#result_list tbody tr th a")
    body = page.locator("#id_body")
    body.fill(body.input_value() + " Zyxwvut was also mentioned.")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/archive/turn/(\?.*)?$"))
    assert "was changed successfully" in page.inner_text(".messagelist")
    # The indexing consumer takes the change in; the page is polled, with a
    # generous safety net, until the search finds it.
    for _ in range(60):
        page.goto("/search/?q=zyxwvut&spelling=as-typed")
        if page.locator(".hit").count():
            break
        page.wait_for_timeout(500)
    assert page.locator(".hit mark").first.inner_text().lower() == "zyxwvut"


def test_the_admins_transcript_table_fits_a_1280_pixel_screen(browser, site):
    page = new_page(browser, site, viewport={"width": 1280, "height": 900})
    log_in(page)
    page.goto("/admin/archive/interview/?q=cyber-norms")
    page.click("#result_list tbody tr th a")
    page.wait_for_selector(".inline-group .tabular")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # Each text box grows with its text: a long answer's is taller.
    heights = page.eval_on_selector_all(
        "td.field-body textarea",
        "els => els.filter(e => e.value).map(e => [e.value.length, e.offsetHeight])",
    )
    longest, shortest = max(heights), min(heights)
    assert longest[1] > shortest[1] * 2
    page.context.close()


# Layouts and modes ----------------------------------------------------------------


def test_phone_viewport_has_no_sideways_scrolling(browser, site):
    page = new_page(browser, site, viewport={"width": 320, "height": 640})
    for url in ["/", PODCAST, "/search/?q=norms", "/speakers/tim-maurer/"]:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, url
    # The order label sits beside its menu, not stranded on a line alone.
    page.goto("/search/?q=norms")
    label = page.locator("label[for=sort]").bounding_box()
    menu = page.locator("#sort").bounding_box()
    assert abs(label["y"] - menu["y"]) < menu["height"]
    page.context.close()


def test_transcript_reads_comfortably_on_a_wide_screen(browser, site):
    page = new_page(browser, site, viewport={"width": 1600, "height": 900})
    page.goto(PODCAST)
    # Lines of about 65-75 characters: count what fits on the first line.
    chars = page.evaluate(
        """() => {
            const p = document.querySelector('#t-6 .turn__body p');
            const text = p.firstChild;
            const range = document.createRange();
            let n = 1;
            range.setStart(text, 0);
            range.setEnd(text, 1);
            const top = range.getBoundingClientRect().top;
            while (n < text.data.length) {
                range.setEnd(text, n + 1);
                if (range.getClientRects().length > 1 ||
                    range.getBoundingClientRect().top !== top) break;
                n++;
            }
            return n;
        }"""
    )
    assert 60 <= chars <= 85, chars
    # Questions are set apart by a panel, not by italics.
    style = page.eval_on_selector(
        ".turn--question .turn__body", "el => getComputedStyle(el).fontStyle"
    )
    assert style == "normal"
    page.context.close()


def test_dark_mode_follows_the_system_setting(browser, site):
    dark = new_page(browser, site, color_scheme="dark")
    light = new_page(browser, site, color_scheme="light")
    colours = []
    for page in (dark, light):
        page.goto(PODCAST)
        colours.append(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        page.context.close()
    assert colours == ["rgb(21, 23, 26)", "rgb(255, 255, 255)"]


def test_keyboard_only_search(page):
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("sovereignty")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=sovereignty"))
    assert page.locator(".hit").count() >= 1
    # Focus is visible: a focused link draws an outline.
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_print_shows_each_turns_permalink_and_the_citation(page, site):
    page.goto(PODCAST)
    page.emulate_media(media="print")
    after = page.evaluate(
        "getComputedStyle(document.querySelector('#t-6 .turn__link'), '::after')"
        ".content"
    )
    assert after == f'" {site}{PODCAST}#t-6"'
    assert page.locator(".cite").is_visible()
    assert not page.locator(".search").first.is_visible()


def test_works_without_javascript(browser, site):
    page = new_page(browser, site, java_script_enabled=False)
    page.goto(PODCAST + "?q=norms")
    # Citations are on the page; copy buttons, which need a script, are not.
    assert "Maurer, Tim. “Cyber Norms" in page.inner_text("#citation-interview-mla")
    assert not page.locator("button.copy").first.is_visible()
    page.click("[data-hit=next]")
    assert re.search(r"#t-\d+$", page.url)
    page.context.close()


# Accessibility -------------------------------------------------------------------

AXE_PAGES = [
    "/",
    "/interviews/",
    PODCAST,
    ARTICLE,
    "/speakers/tim-maurer/",
    "/search/?q=norms",
    "/search/help/",
    PODCAST + "?q=norms#t-6",
    "/topics/",
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violation(browser, site, scheme):
    # The test injects axe as an inline script, which the site's own
    # Content-Security-Policy rightly refuses.
    page = new_page(browser, site, color_scheme=scheme, bypass_csp=True)
    page.goto(PODCAST)
    quote = page.get_attribute("#t-6 .turn__cite", "href")
    problems = {}
    for url in [*AXE_PAGES, quote]:
        page.goto(url)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            """() => axe.run(document, {runOnly: {type: 'tag', values: [
                'wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                'best-practice', 'experimental']}})"""
        )
        serious = [
            f"{v['id']}: {v['help']} ({len(v['nodes'])}×, e.g. "
            f"{v['nodes'][0]['target']})"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if serious:
            problems[url] = serious
        assert "label-content-name-mismatch" in {
            r["id"] for r in result["passes"] + result["inapplicable"]
        } | {r["id"] for r in result["violations"]}, "experimental rules ran"
    page.context.close()
    assert problems == {}


def test_the_admin_works_under_the_content_security_policy(page):
    """Every admin page staff use loads with nothing refused, and the
    admin's own scripts (select all, add a row) still run."""
    log_in(page)
    for path in (
        "/admin/",
        "/admin/archive/interview/",
        "/admin/archive/interview/import/",
        "/admin/archive/speaker/add/",
        "/admin/archive/revision/",
        "/admin/archive/featuredquote/add/",
    ):
        response = page.goto(path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
    page.goto("/admin/archive/turn/")
    page.check("#action-toggle")
    rows = page.locator("input[name=_selected_action]")
    assert rows.count() > 1
    assert all(rows.nth(i).is_checked() for i in range(rows.count()))
    page.goto("/admin/archive/interview/?q=cyber-norms")
    page.click("#result_list tbody tr th a")
    page.wait_for_selector("#turns-group .add-row a")
    before = page.locator("#turns-group tr.form-row:not(.empty-form)").count()
    page.click("#turns-group .add-row a")
    after = page.locator("#turns-group tr.form-row:not(.empty-form)").count()
    assert after == before + 1
