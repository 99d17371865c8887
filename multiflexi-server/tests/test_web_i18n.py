"""The pages' languages: every marked text has its Czech translation, the compiled
catalogs are those of the sources, and each page speaks the language of the user's
setting, else of the browser; part 1's pages (sign-in, dashboard, jobs, run templates,
search, error pages) leave no English text in Czech, their scripts' texts included."""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser

import pytest
from helpers import PASSWORD, manifest, signed_in

from multiflexi.core import lifecycle, users
from multiflexi.core.audit import Actor
from multiflexi.core.models import Job
from multiflexi.core.output import channel
from multiflexi.server.web import base, catalog, i18n

ADMIN = Actor(name="root", user_id=None)


def test_every_marked_text_is_translated_into_every_language():
    for language in catalog.translated_languages():
        assert catalog.missing(language) == [], f"{language}: run scripts/translations.py update"


def test_the_catalogs_hold_only_the_texts_the_pages_use():
    used = {message.id for message in catalog.extract() if message.id}
    for language in catalog.translated_languages():
        held = {message.id for message in catalog.read(language) if message.id}
        assert held - used == set(), f"{language}: texts no page uses any more"


def test_the_compiled_catalogs_are_those_of_the_po_files():
    for language in catalog.translated_languages():
        assert catalog.mo_path(language).read_bytes() == catalog.compiled(language), (
            f"{language}: run scripts/translations.py compile"
        )


def test_the_page_speaks_the_browsers_language_and_english_otherwise(world):
    client = world.client()
    czech = client.get("/login", headers={"Accept-Language": "cs-CZ,cs;q=0.9,en;q=0.5"})
    assert '<html lang="cs"' in czech.text
    assert "Přejít na obsah" in czech.text
    for accept in ("de-DE,de;q=0.9", "en-GB", None):
        headers = {"Accept-Language": accept} if accept else {}
        page = client.get("/login", headers=headers)
        assert '<html lang="en"' in page.text
        assert "Skip to content" in page.text


def test_a_users_own_language_wins_over_the_browsers(world):
    client = signed_in(world, "alice")
    english = {"Accept-Language": "en-US,en;q=0.9"}
    assert '<html lang="en"' in client.get("/", headers=english).text
    with world.session() as session:
        alice = users.get_by_login(session, "alice")
        users.update(session, alice.id, actor=ADMIN, language="cs")
    page = client.get("/", headers=english)
    assert '<html lang="cs"' in page.text
    assert ">Odhlásit<" in page.text
    # another user with the same browser keeps English
    assert '<html lang="en"' in signed_in(world, "amy").get("/", headers=english).text
    assert set(i18n.LANGUAGES) == set(users.LANGUAGES)


# -- part 1's pages in Czech --------------------------------------------------------------

CZECH = {"Accept-Language": "cs-CZ,cs;q=0.9", "Accept": "text/html"}
#: the attributes people read (or hear) besides the text
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "data-confirm", "data-label")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


class _Visible(HTMLParser):
    """The texts a person reads on a page: text nodes and readable attributes (not scripts,
    nor ``<code>``: names of variables, options and commands are the same in every language)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code"):
            self._skip += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.texts.append(" ".join(value.split()))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skip:
            self.texts.append(text)


def visible_texts(page: str) -> list[str]:
    parser = _Visible()
    parser.feed(page)
    return parser.texts


def _english_ids() -> list[str]:
    """The English texts of the catalog whose Czech differs (a text the same in both,
    such as "API", proves nothing)."""
    found = []
    for message in catalog.read("cs"):
        if not message.id:
            continue
        english = [message.id] if isinstance(message.id, str) else list(message.id)
        czech = [message.string] if isinstance(message.string, str) else list(message.string)
        found += [text for text in english if text not in czech]
    return found


def _strings(value: object) -> set[str]:
    if isinstance(value, str):
        return {" ".join(value.split())}
    if isinstance(value, dict):
        return set().union(*(_strings(item) for item in value.values()))
    if isinstance(value, (list, tuple)):
        return set().union(*(_strings(item) for item in value))
    return set()


#: the world's data shown on the pages as it is (its application's manifest: names,
#: descriptions of fields): not a page text, whatever language it is in
DATA = frozenset(_strings(manifest()))


def english_left(page: str) -> list[str]:
    """The catalog's English texts a page shows: a whole text (its placeholders standing
    for any data) or a phrase of three words or more of one; the world's data aside."""
    texts = [text for text in visible_texts(page) if text not in DATA]
    joined = " | ".join(texts)
    left = []
    for english in _english_ids():
        pieces = PLACEHOLDER.split(english)
        whole = re.compile(".+".join(re.escape(piece) for piece in pieces))
        if any(whole.fullmatch(text) for text in texts):
            left.append(english)
            continue
        for piece in pieces:
            piece = piece.strip(' ,.:;()“”"')
            if len(piece.split()) >= 3 and piece in joined:
                left.append(english)
                break
    return left


def test_the_check_finds_english_left_in_a_page():
    page = (
        '<p title="Job actions">Nic</p><h1>Job #5</h1>'
        "<p>Jobs due between <time>10:00</time> yesterday and <time>11:00</time>, by how</p>"
    )
    assert sorted(english_left(page)) == [
        "Job #%(id)s",
        "Job actions",
        "Jobs due between %(since)s yesterday and %(now)s, by how they stand now.",
    ]
    assert english_left("<p>API</p><script>var x = 'Job actions'</script>") == []


@pytest.fixture
def czech_pages(world):
    """Every part-1 page as root sees it, fetched in Czech: path -> (status, html)."""
    ids = world.ids
    root = signed_in(world, "root")
    paths = [
        "/",
        "/jobs",
        "/jobs?state=nonsense&since=yesterday",
        f"/jobs/{ids['done_a']}",
        f"/jobs/{ids['job_a']}",
        "/run-templates",
        f"/run-templates/{ids['rt_a']}",
        f"/run-templates/{ids['rt_a']}/launch",
        f"/run-templates/{ids['rt_a']}/delete",
        "/search?q=probe",
        "/search?q=zzzz",
        "/jobs/999999",
        "/no-such-page",
    ]
    pages = {}
    for path in paths:
        answer = root.get(path, headers=CZECH)
        pages[path] = (answer.status_code, answer.get_data(as_text=True))
    anonymous = world.client()
    answer = anonymous.get("/login", headers=CZECH)
    pages["/login"] = (answer.status_code, answer.get_data(as_text=True))
    answer = anonymous.post("/login", data={"login": "root", "password": "wrong"}, headers=CZECH)
    pages["POST /login without a token"] = (answer.status_code, answer.get_data(as_text=True))
    viewer = signed_in(world, "bob")
    answer = viewer.get(f"/run-templates/{ids['rt_b']}", headers=CZECH)
    pages["a viewer's run template"] = (answer.status_code, answer.get_data(as_text=True))
    return pages


def test_part_1_pages_in_czech_leave_no_english_text(czech_pages):
    for path, (status, page) in czech_pages.items():
        assert '<html lang="cs"' in page, path
        assert english_left(page) == [], f"{path} ({status}) shows English"


def test_czech_pages_say_what_the_english_ones_say(world, czech_pages):
    ids = world.ids
    status, job = czech_pages[f"/jobs/{ids['done_a']}"]
    assert status == 200
    assert f"Úloha #{ids['done_a']}" in job
    assert 'data-state="success">úspěch</span>' in job  # the label Czech, the value English
    count = re.search(r'id="output-count">(\d+) (\w+)<', job)
    assert count, "the output's line count"
    number, word = int(count.group(1)), count.group(2)
    assert word == ("řádek" if number == 1 else "řádky" if 2 <= number <= 4 else "řádků")
    status, error = czech_pages["/jobs/999999"]
    assert status == 404 and "Nenalezeno" in error
    status, unknown = czech_pages["/no-such-page"]
    assert status == 404 and "Taková stránka neexistuje" in unknown
    status, expired = czech_pages["POST /login without a token"]
    assert status == 400 and "Platnost formuláře vypršela" in expired
    status, listing = czech_pages["/jobs?state=nonsense&since=yesterday"]
    assert status == 422 and "<strong>Naplánováno od</strong>: není datum a čas" in listing
    status, search = czech_pages["/search?q=zzzz"]
    assert "Výrazu „zzzz“ nic neodpovídá." in search
    english = signed_in(world, "root").get("/jobs/999999")
    assert english.status_code == 404 and "Not found" in english.get_data(as_text=True)


def test_the_scripts_texts_come_in_the_pages_language(world):
    client = signed_in(world, "alice")
    path = f"/jobs/{world.ids['done_a']}"

    def texts(headers: dict[str, str]) -> dict:
        page = client.get(path, headers=headers).get_data(as_text=True)
        found = re.search(r"data-i18n='([^']*)'", page)
        assert found, "the layout carries the scripts' texts"
        return json.loads(found.group(1).replace("&#34;", '"').replace("&amp;", "&"))

    czech = texts(CZECH)
    assert czech["output"]["follow"] == "Sledovat"
    assert czech["lines"]["one"] == "{n} řádek"
    assert czech["lines"]["few"] == "{n} řádky"
    assert czech["lines"]["other"] == "{n} řádků"
    assert czech["ago"]["day"]["few"] == "před {n} dny"
    assert czech["in"]["day"]["other"] == "za {n} dní"
    assert czech["theme"]["dark"] == "Vzhled: tmavý"
    assert czech["states"]["failed"] == "selhalo"
    english = texts({})
    assert english["lines"]["one"] == "{n} line" and english["lines"]["other"] == "{n} lines"
    assert english["ago"]["min"]["other"] == "{n} min ago"


def test_times_and_durations_in_the_pages_language(world):
    monday = dt.datetime(2026, 12, 7, 14, 5, tzinfo=dt.UTC)
    for accept, weekday, day_month in (("cs", "po", "7. 12."), ("en", "Mon", "Dec 7")):
        with world.app.test_request_context("/", headers={"Accept-Language": accept}):
            assert base.local_strftime(monday, "%a %Y-%m-%d %H:%M") == f"{weekday} 2026-12-07 14:05"
            assert base.local_strftime(monday, "%d %b") == day_month
            assert base.duration(3 * 3600 + 120) == "3 h 2 min"
            assert base.state_label("cancelled") == ("zrušeno" if accept == "cs" else "cancelled")


# -- in a browser ---------------------------------------------------------------------------


def _czech_user(world, login: str) -> None:
    with world.session() as session:
        user = users.get_by_login(session, login)
        users.update(session, user.id, actor=ADMIN, language="cs")


def _fits_a_phone(browser) -> bool:
    """Whether the page needs no sideways scrolling at a phone's width (longer Czech words)."""
    browser.driver.set_window_size(390, 844)
    try:
        return browser.driver.execute_script(
            "const root = document.documentElement; return root.scrollWidth <= root.clientWidth"
        )
    finally:
        browser.driver.set_window_size(1366, 900)


def test_czech_pages_in_a_browser(browser, world, redis):
    """A user whose language is Czech: the dashboard, a job's page with live output (the
    scripts' texts in Czech) and a run template's page; axe and console clean."""
    _czech_user(world, "amy")
    job_id = world.ids["job_a"]
    with world.session() as session:
        job = session.get(Job, job_id)
        job.state, job.started_at = "running", dt.datetime.now(dt.UTC)
        session.commit()
    browser.sign_in("amy", PASSWORD)
    browser.open("/")
    assert browser.driver.find_element("tag name", "html").get_attribute("lang") == "cs"
    assert "Posledních 24 hodin" in browser.text()
    assert english_left(browser.source()) == []
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []
    assert _fits_a_phone(browser)
    browser.screenshot("cs-dashboard")

    browser.open(f"/jobs/{job_id}")
    browser.wait(lambda: browser.find("output-status").text == "živě", "the stream to open")
    lines = [("stdout", "začátek importu"), ("stderr", "varování"), ("stdout", "hotovo")]
    with world.session() as session:
        lifecycle.store_output(session, job_id, 1, lines)
    message = {
        "job_id": job_id,
        "lines": [{"seq": 1 + i, "stream": s, "text": t} for i, (s, t) in enumerate(lines)],
    }
    redis.publish(channel(job_id), json.dumps(message))
    browser.wait(lambda: browser.find("output-count").text == "3 řádky", "the count in Czech")
    follow = browser.find("output-follow")
    assert follow.text == "Sleduji"
    follow.click()
    assert follow.text == "Sledovat"
    follow.click()
    theme = browser.find("theme-toggle")
    theme.click()
    assert theme.get_attribute("aria-label").startswith("Vzhled: ")
    theme.click()
    theme.click()  # back to the system theme
    assert english_left(browser.source()) == []
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []
    assert _fits_a_phone(browser)
    browser.screenshot("cs-job-live")

    browser.open(f"/run-templates/{world.ids['rt_a']}")
    assert "Plán a provádění" in browser.text()
    assert english_left(browser.source()) == []
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []
    assert _fits_a_phone(browser)
    browser.screenshot("cs-run-template")
    browser.screenshot("cs-run-template-settings", at="settings")
