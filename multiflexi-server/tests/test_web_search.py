"""The global search: /search?q=, the top bar's box with live results, Ctrl+K and "/",
a job by its id, and only what the signed-in user may see."""

from __future__ import annotations

import re

from helpers import PASSWORD
from selenium.webdriver.common.keys import Keys
from test_web_signin import sign_in


def client_of(world, login: str):
    client = world.client()
    sign_in(client, login)
    return client


def result_names(html: str, group: str) -> list[str]:
    section = re.search(rf'data-testid="results-{group}".*?</section>', html, re.S)
    if section is None:
        return []
    return re.findall(r'<span class="result-name">([^<]+)</span>', section.group(0))


def test_a_run_template_is_found_by_part_of_its_name_and_not_another_companys(world):
    html = client_of(world, "alice").get("/search?q=OBE alp").data.decode()
    assert result_names(html, "run-templates") == ["probe alpha"]
    assert f'href="/run-templates/{world.ids["rt_a"]}"' in html
    mine = client_of(world, "alice").get("/search?q=probe").data.decode()
    assert result_names(mine, "run-templates") == ["probe alpha"]
    assert "probe beta" not in mine and "Company beta" not in mine
    everyone = client_of(world, "root").get("/search?q=probe").data.decode()
    assert result_names(everyone, "run-templates") == ["probe alpha", "probe beta"]
    nobody = client_of(world, "nobody").get("/search?q=probe").data.decode()
    assert result_names(nobody, "run-templates") == []


def test_companies_and_applications_are_found_too(world):
    html = client_of(world, "bob").get("/search?q=company").data.decode()
    assert result_names(html, "companies") == ["Company beta"]
    apps = client_of(world, "bob").get("/search?q=prob").data.decode()
    assert result_names(apps, "applications") == ["Probe"]


def test_a_job_number_opens_the_job_when_the_user_may_see_it(world):
    job = world.ids["job_a"]
    for text in (f"%23{job}", str(job)):
        answer = client_of(world, "alice").get(f"/search?q={text}")
        assert answer.status_code == 302 and answer.headers["Location"] == f"/jobs/{job}"
    # company B's job is not alice's: no jump, and nothing says it exists
    other = client_of(world, "alice").get(f"/search?q=%23{world.ids['job_b']}")
    assert other.status_code == 200
    assert 'data-testid="result-job"' not in other.data.decode()
    assert 'data-testid="no-results"' in other.data.decode()
    # while typing, the job is a result (the box does not jump away)
    live = client_of(world, "alice").get(f"/search?q={job}", headers={"HX-Request": "true"})
    assert live.status_code == 200 and "<html" not in live.data.decode()
    assert f'href="/jobs/{job}"' in live.data.decode()


def test_the_live_results_are_a_fragment_and_blank_text_is_nothing(world):
    client = client_of(world, "alice")
    live = client.get("/search?q=probe", headers={"HX-Request": "true"}).data.decode()
    assert "<html" not in live and result_names(live, "run-templates") == ["probe alpha"]
    blank = client.get("/search?q=", headers={"HX-Request": "true"}).data.decode()
    assert "result-name" not in blank and "no-results" not in blank


def test_too_long_a_text_is_a_clear_message_not_an_error_page(world):
    answer = client_of(world, "alice").get("/search?q=" + "x" * 300)
    assert answer.status_code == 422
    assert 'data-testid="search-error"' in answer.data.decode()
    assert "at most 200 characters" in answer.data.decode()


def test_every_page_has_the_search_box_and_no_secret_is_found(world):
    client = client_of(world, "root")
    page = client.get("/").data.decode()
    assert 'data-testid="search-box"' in page and 'action="/search"' in page
    assert 'hx-trigger="keyup changed delay:250ms, search"' in page
    for text in ("PLANTED", "probe", "a", "1", "weekly", "API_PASSWORD"):
        html = client.get(f"/search?q={text}").data.decode()
        assert "PLANTED-" not in html, text
    assert client.get("/search?q=x").headers["Content-Security-Policy"]


# -- in a real browser ----------------------------------------------------------------------


def test_ctrl_k_and_slash_reach_the_search_box_and_results_show_while_typing(browser, world):
    browser.sign_in("alice", PASSWORD)
    box = browser.find("search-box")
    body = browser.driver.find_element("tag name", "body")
    body.send_keys(Keys.CONTROL, "k")
    browser.wait(lambda: browser.driver.switch_to.active_element == box, "the box focused")
    box.send_keys(Keys.ESCAPE)
    assert browser.driver.switch_to.active_element != box
    browser.driver.find_element("tag name", "body").send_keys("/")
    browser.wait(lambda: browser.driver.switch_to.active_element == box, "the box focused by /")
    assert box.get_attribute("value") == ""  # the "/" is not typed into it
    box.send_keys("probe")
    popup = browser.find("search-popup")
    browser.wait(lambda: popup.is_displayed() and "probe alpha" in popup.text, "live results")
    assert "probe beta" not in popup.text
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []
    browser.screenshot("search-live")
    # arrow down walks into the results, Enter on the box opens the results page
    box.send_keys(Keys.ARROW_DOWN)
    active = browser.driver.switch_to.active_element
    assert active.get_attribute("data-testid") == "result-run-templates"
    box.send_keys(Keys.ENTER)
    browser.wait(lambda: browser.path.startswith("/search"), "the results page")
    assert "probe alpha" in browser.find("search-results").text
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []
    browser.screenshot("search-results")
    # the page's own box updates the results while typing, and Ctrl+K reaches it
    page_box = browser.find("search-page-box")
    browser.driver.find_element("tag name", "body").send_keys(Keys.CONTROL, "k")
    browser.wait(lambda: browser.driver.switch_to.active_element == page_box, "the page's box")
    page_box.send_keys(Keys.CONTROL, "a")
    page_box.send_keys("company")
    browser.wait(lambda: "Company alpha" in browser.find("search-results").text, "new results")
    browser.wait(lambda: "q=company" in browser.driver.current_url, "the address to follow")
    assert browser.console_errors() == []
