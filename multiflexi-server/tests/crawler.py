"""A crawler of the web UI for the tests: signed in as someone, it starts at ``/`` and
follows every link of the site breadth-first with the Flask test client.

It follows ``<a href>`` of the same site, ``hx-get`` targets (as htmx asks for them,
with the ``HX-Request`` header) and GET forms sent with their default values; it
fetches the scripts, style sheets and images a page names; it keeps every POST form
it sees (with its defaults) so a test can send them again as someone else.

What it finds wrong is kept in ``Crawl.problems`` as sentences that name the page
and the page that linked to it; the tests assert that the list is empty.
"""

from __future__ import annotations

import collections
import dataclasses
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from helpers import SECRETS, csrf_of
from werkzeug.datastructures import MultiDict

#: elements a person (or a probe) acts on: each needs an id or a data-testid
INTERACTIVE = frozenset({"a", "button", "input", "select", "textarea", "form"})
#: how many addresses one crawl fetches at most (the populated world needs far fewer)
LIMIT = 600
#: redirects followed from one link before it counts as a loop
MAX_REDIRECTS = 5
#: the planted secrets: none may appear in a response (the password is planted too)
PLANTED = tuple(value for value in SECRETS.values() if value.startswith("PLANTED-"))
CSRF_FIELD = "csrf_token"


@dataclasses.dataclass
class Form:
    """A form as the page offers it: where it goes and what it sends untouched."""

    page: str
    method: str
    action: str
    fields: list[tuple[str, str]]
    tag: str

    def send(self, client: Any, csrf: str | None = None) -> Any:
        """Send the form as a browser would (with ``csrf`` instead of its own token)."""
        data = [(k, csrf if k == CSRF_FIELD and csrf is not None else v) for k, v in self.fields]
        if self.method == "get":
            return client.get(self.url())
        return client.post(self.action, data=MultiDict(data))

    def url(self) -> str:
        query = urlencode([(k, v) for k, v in self.fields if k != CSRF_FIELD])
        return f"{self.action}?{query}" if query else self.action


@dataclasses.dataclass
class Page:
    """One fetched address."""

    url: str
    status: int
    linked_from: str
    partial: bool
    mimetype: str
    body: str = ""
    location: str | None = None


class _Parser(HTMLParser):
    """Links, resources, forms and the markup the rules forbid, of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.partials: list[str] = []
        self.resources: list[str] = []
        self.forms: list[dict[str, Any]] = []
        self.unnamed: list[str] = []
        self.forbidden: list[str] = []
        self._form: dict[str, Any] | None = None
        self._select: tuple[str, list[str], list[str]] | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._script_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: (value or "") for name, value in attrs}
        text = self.get_starttag_text() or f"<{tag}>"
        for name in a:
            if name.startswith("on"):
                self.forbidden.append(f"an event handler attribute ({name}=) in {text}")
        if "style" in a:
            self.forbidden.append(f"a style= attribute in {text}")
        if tag == "script":
            self._script_src = bool(a.get("src"))
            if not self._script_src:
                self.forbidden.append(f"an inline script {text}")
            else:
                self.resources.append(a["src"])
        if tag == "link" and a.get("href"):
            self.resources.append(a["href"])
        if tag == "img" and a.get("src"):
            self.resources.append(a["src"])
        if tag in INTERACTIVE and not (a.get("id") or a.get("data-testid")):
            hidden = tag == "input" and a.get("type") == "hidden"
            if not hidden:
                self.unnamed.append(text)
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if "hx-get" in a:
            self.partials.append(a["hx-get"])
        if tag == "form":
            self._form = {
                "method": (a.get("method") or "get").lower(),
                "action": a.get("action", ""),
                "fields": [],
                "buttons": [],
                "tag": text,
            }
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image"):
                self._form["buttons"].append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"].append((name, a.get("value", "on")))
            elif kind not in ("file", "reset", "button"):
                self._form["fields"].append((name, a.get("value", "")))
        elif tag == "button" and name and a.get("type", "submit") == "submit":
            self._form["buttons"].append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = (name, [], [])
        elif tag == "option" and self._select is not None:
            value = a.get("value")
            target = self._select[1] if "selected" in a else self._select[2]
            target.append(value if value is not None else "")
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            # a browser sends the first submit button's name and value
            self._form["fields"].extend(self._form.pop("buttons")[:1])
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, chosen, others = self._select
            values = chosen or others[:1]
            self._form["fields"].extend((name, value) for value in values)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, parts = self._textarea
            self._form["fields"].append((name, "".join(parts).removeprefix("\n")))
            self._textarea = None


def _same_site(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("", "http") and parts.netloc in ("", "localhost")


def _local(url: str) -> str:
    """A same-site address as a path with its query, without the fragment."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Crawl:
    """Everything reachable from ``/`` for one client, and what was wrong on the way."""

    def __init__(
        self, client: Any, who: str, seeds: tuple[str, ...] = (), limit: int = LIMIT
    ) -> None:
        self.client = client
        self.who = who
        self.pages: dict[tuple[str, bool], Page] = {}
        self.forms: list[Form] = []
        self.problems: list[str] = []
        self.resources: set[str] = set()
        starts = [(url, False, "the start") for url in ("/", *seeds)]
        queue: collections.deque[tuple[str, bool, str]] = collections.deque(starts)
        seen = {(url, partial) for url, partial, _ in starts}
        while queue:
            if len(self.pages) >= limit:
                self.problems.append(f"more than {limit} addresses: the crawl stopped early")
                break
            url, partial, origin = queue.popleft()
            for found, found_partial in self._visit(url, partial, origin):
                key = (found, found_partial)
                if key not in seen:
                    seen.add(key)
                    queue.append((found, found_partial, url))

    # -- one address -----------------------------------------------------------------------

    def _get(self, url: str, partial: bool) -> Any:
        headers = {"HX-Request": "true"} if partial else {}
        return self.client.get(url, headers=headers)

    def _visit(self, url: str, partial: bool, origin: str) -> list[tuple[str, bool]]:
        answer = self._get(url, partial)
        hops = [url]
        while answer.status_code in (301, 302, 303, 307, 308) and len(hops) <= MAX_REDIRECTS:
            target = answer.headers.get("Location", "")
            if not _same_site(target):
                self.problems.append(f"{url} (linked from {origin}) redirects off-site: {target}")
                return []
            self._check_response(hops[-1], origin, answer)
            hops.append(_local(urljoin(hops[-1], target)))
            answer = self._get(hops[-1], partial)
        where = url if len(hops) == 1 else " -> ".join(hops)
        body = answer.get_data(as_text=True)
        page = Page(url, answer.status_code, origin, partial, answer.mimetype, body)
        self.pages[(url, partial)] = page
        self._check_response(where, origin, answer)
        if answer.status_code != 200:
            self.problems.append(
                f"{where} answers {answer.status_code} (linked from {origin} for {self.who})"
            )
            return []
        if answer.mimetype != "text/html" or not hops[-1].startswith(("/", "?")):
            return []
        if hops[-1].startswith("/api/"):
            return []  # the API's own page (its docs): reached, not a page of the web UI
        return self._read(hops[-1], body, where)

    def _check_response(self, where: str, origin: str, answer: Any) -> None:
        text = answer.get_data(as_text=True)
        headers = "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
        for secret in PLANTED:
            if secret in text or secret in headers:
                self.problems.append(f"{where} (linked from {origin}) shows the secret {secret}")
        if "Content-Security-Policy" not in answer.headers:
            self.problems.append(f"{where} answers without a Content-Security-Policy")

    def _read(self, url: str, body: str, where: str) -> list[tuple[str, bool]]:
        parser = _Parser()
        parser.feed(body)
        parser.close()
        for rule in parser.forbidden:
            self.problems.append(f"{where}: {rule}")
        for element in parser.unnamed:
            self.problems.append(f"{where}: no id or data-testid on {element}")
        found: list[tuple[str, bool]] = []
        for href in parser.links:
            if href.startswith("#"):
                continue
            if href.lower().startswith("javascript:"):
                self.problems.append(f"{where}: a javascript: link {href}")
            elif _same_site(href):
                found.append((_local(urljoin(url, href)), False))
        found.extend((_local(urljoin(url, target)), True) for target in parser.partials)
        for src in parser.resources:
            self._resource(_local(urljoin(url, src)), where)
        for raw in parser.forms:
            action = _local(urljoin(url, raw["action"] or url))
            form = Form(where, raw["method"], action, raw["fields"], raw["tag"])
            if form.method == "get":
                found.append((form.url(), False))
                continue
            self.forms.append(form)
            if not any(k == CSRF_FIELD and v for k, v in form.fields):
                self.problems.append(f"{where}: a POST form without the CSRF field: {form.tag}")
        return found

    def _resource(self, url: str, where: str) -> None:
        if url in self.resources:
            return
        self.resources.add(url)
        answer = self.client.get(url)
        if answer.status_code != 200:
            self.problems.append(f"{url} (named by {where}) answers {answer.status_code}")
        answer.close()

    # -- what was reached ------------------------------------------------------------------

    def urls(self) -> set[str]:
        return {url for (url, _), page in self.pages.items() if page.status == 200}

    def csrf(self) -> str:
        return csrf_of(self.pages[("/", False)].body)
