"""A real browser for the web UI's tests: Debian's chromium, headless, driven by
Selenium through Debian's chromedriver, against an app served on a loopback port.

Test support, shipped so that the server's tests and the end-to-end tests of
multiflexi-all drive the web UI the same way; not meant for production use::

    from multiflexi.server.testing import Browser, serve

    with serve(create_app(settings)) as url:   # the app in threads of this process
        browser = Browser(axe=AXE, screenshots=tmp_path)
        browser.base = url
        browser.sign_in("admin", password)

Nothing is downloaded: the browser and its driver are the Debian packages
(``.ci/run`` installs them). Selenium is imported only when a :class:`Browser` is
made (it is a test dependency, not one of the server); without it, or without
chromium and chromedriver, the calling test is skipped with the reason (a failure
when ``MULTIFLEXI_TEST_REQUIRE_SERVICES=1``). axe-core is not shipped here: the
tests that check accessibility vendor it and pass its path as ``axe``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from multiflexi.database.testing import unavailable

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver",)
LAPTOP = (1366, 900)
PHONE = (390, 844)


def _first(paths: tuple[str, ...]) -> str | None:
    for path in paths:
        if Path(path).exists():
            return path
    return None


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app on a free loopback port, in threads of this process; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def wait_until(
    condition: Callable[[], Any], what: str, timeout: float = 10, interval: float = 0.1
) -> Any:
    """Poll ``condition()`` (an exception counts as not yet) until it is truthy; its value,
    or an AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            value = condition()
            if value:
                return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Browser:
    """One headless Chromium; each test starts signed out (cookies cleared).

    ``axe``: the file of axe-core that :meth:`accessibility_violations` runs in the
    page; ``screenshots``: the folder :meth:`screenshot` writes to (made when needed).
    """

    def __init__(self, *, axe: Path | None = None, screenshots: Path | None = None) -> None:
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
        except ImportError:
            unavailable("the web UI tests need selenium (the test extra)")

        self.axe = axe
        self.screenshots = screenshots
        binary = _first(CHROMIUM)
        driver = _first(CHROMEDRIVER) or shutil.which("chromedriver")
        if binary is None or driver is None:
            unavailable("the web UI tests need Debian's chromium and chromium-driver")
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--window-size={LAPTOP[0]},{LAPTOP[1]}",
        ):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=driver))
        self.driver.set_page_load_timeout(30)
        self.base = ""

    # -- navigation ------------------------------------------------------------------------

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    @property
    def path(self) -> str:
        url = self.driver.current_url
        return url[len(self.base) :] if url.startswith(self.base) else url

    def find(self, testid: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')

    def find_all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def has(self, testid: str) -> bool:
        return bool(self.find_all(f'[data-testid="{testid}"]'))

    def fill(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            element = self.find(f"field-{name}")
            element.clear()
            element.send_keys(value)

    def submit(self, testid: str) -> None:
        """Click the button ``testid`` that submits a form and wait for the page it leads to
        (a click returns before the answer arrives: the sign-in slowdown makes that visible)."""
        page = self.driver.find_element("tag name", "html")
        self.find(testid).click()

        def replaced() -> bool:
            try:
                page.get_attribute("lang")
            except Exception:  # the old document is gone: a stale element
                return True
            return False

        self.wait(replaced, f"the page after {testid}", timeout=30)
        self.wait(
            lambda: self.driver.execute_script("return document.readyState") == "complete",
            "the new page to load",
            timeout=30,
        )

    def sign_in(self, login: str, password: str) -> None:
        self.open("/login")
        self.fill({"login": login, "password": password})
        self.submit("login-submit")
        self.wait(lambda: not self.path.startswith("/login"), "the dashboard after sign-in")

    def sign_out(self) -> None:
        self.driver.delete_all_cookies()

    def text(self) -> str:
        return self.driver.find_element("tag name", "body").text

    def source(self) -> str:
        return self.driver.page_source

    def wait(self, condition: Callable[[], Any], what: str, timeout: float = 10) -> Any:
        return wait_until(condition, what, timeout, interval=0.05)

    # -- what the browser noticed ------------------------------------------------------------

    def console_errors(self) -> list[str]:
        """Errors the page logged since the last call (CSP violations, failed scripts, ...)."""
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry.get("level") == "SEVERE"
        ]

    def accessibility_violations(self, impacts: tuple[str, ...] = ("serious", "critical")) -> list:
        """axe-core's violations of the current page with one of ``impacts``."""
        if self.axe is None:
            raise RuntimeError("Browser(axe=...) names no axe-core file to run")
        self.driver.execute_script(self.axe.read_text("utf-8"))
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document).then(r => done(JSON.stringify(r.violations)),"
            " e => done(JSON.stringify([{id: 'axe-error', impact: 'critical', help: String(e)}])));"
        )
        return [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n.get("html", "")[:120] for n in v.get("nodes", [])[:3])
            for v in json.loads(result)
            if v.get("impact") in impacts
        ]

    def theme(self, theme: str) -> None:
        """Show the current page in a theme, as the theme button would."""
        self.driver.add_cookie({"name": "theme", "value": theme, "path": "/"})
        self.driver.execute_script("document.documentElement.dataset.theme = arguments[0]", theme)

    def screenshot(self, name: str, at: str | None = None) -> Path:
        """Laptop and phone screenshots of the current page, light and dark (scrolled to
        the element of id ``at`` when given): the last one's path."""
        if self.screenshots is None:
            raise RuntimeError("Browser(screenshots=...) names no folder for screenshots")
        folder = self.screenshots
        folder.mkdir(parents=True, exist_ok=True)
        last = folder / name
        for theme in ("light", "dark"):
            self.theme(theme)
            for label, (width, height) in (("laptop", LAPTOP), ("phone", PHONE)):
                self.driver.set_window_size(width, height)
                if at is not None:
                    self.driver.execute_script(
                        "document.getElementById(arguments[0]).scrollIntoView()", at
                    )
                last = folder / f"{name}-{theme}-{label}.png"
                self.driver.save_screenshot(str(last))
        self.driver.set_window_size(*LAPTOP)
        self.theme("system")
        return last

    def quit(self) -> None:
        with contextlib.suppress(Exception):
            self.driver.quit()


__all__ = ["CHROMEDRIVER", "CHROMIUM", "LAPTOP", "PHONE", "Browser", "serve", "wait_until"]
