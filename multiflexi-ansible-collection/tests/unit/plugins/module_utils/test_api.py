"""The REST client: URLs, credentials, the server's problem documents, an unreachable server."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    Client,
    MultiFlexiError,
    path,
)


class Recorder:
    def __init__(self, status=200, text='{"ok": true}'):
        self.status, self.text, self.sent = status, text, []

    def __call__(self, method, url, headers, body, timeout, validate_certs, auth):
        self.sent.append(dict(method=method, url=url, headers=headers, body=body, auth=auth))
        return self.status, self.text


def test_the_api_prefix_is_added_once_and_queries_are_encoded():
    server = Recorder()
    client = Client("https://mf.example/api/v1/", token="t", transport=server)
    client.request("GET", "/jobs", query={"state": ["failed", "lost"], "limit": 5, "x": None})
    url = urlsplit(server.sent[0]["url"])
    assert (url.netloc, url.path) == ("mf.example", "/api/v1/jobs")
    assert parse_qs(url.query) == {"state": ["failed", "lost"], "limit": ["5"]}
    assert path("companies", "a b/c") == "/companies/a%20b%2Fc"


def test_a_token_is_a_bearer_header_and_wins_over_a_password():
    server = Recorder()
    Client("http://h", token="tok", username="u", password="p", transport=server).request(
        "GET", "/me"
    )
    assert server.sent[0]["headers"]["Authorization"] == "Bearer tok"
    assert server.sent[0]["auth"] is None
    Client("http://h", username="u", password="p", transport=server).request("GET", "/me")
    assert "Authorization" not in server.sent[1]["headers"]
    assert server.sent[1]["auth"] == ("u", "p")


def test_a_body_is_sent_as_json():
    server = Recorder(status=201)
    Client("http://h", transport=server).request("POST", "/companies", data={"name": "Ž"})
    sent = server.sent[0]
    assert sent["headers"]["Content-Type"] == "application/json"
    assert json.loads(sent["body"]) == {"name": "Ž"}


def test_a_problem_document_becomes_the_message_with_every_field_error():
    problem = {
        "title": "Unprocessable",
        "status": 422,
        "detail": "invalid run template",
        "errors": ["cron: bad minute", "name: must not be empty"],
        "kind": "validation",
    }
    client = Client("http://h", transport=Recorder(422, json.dumps(problem)))
    with pytest.raises(MultiFlexiError) as caught:
        client.request("PATCH", "/run-templates/3", data={"cron": "x"})
    error = caught.value
    assert error.status == 422 and error.problem["kind"] == "validation"
    assert error.message == (
        "PATCH /api/v1/run-templates/3 answered 422: invalid run template "
        "(cron: bad minute; name: must not be empty)"
    )


def test_an_answer_that_is_not_json_is_still_reported():
    client = Client("http://h", transport=Recorder(502, "<html>Bad gateway</html>"))
    with pytest.raises(MultiFlexiError) as caught:
        client.request("GET", "/me")
    assert caught.value.message == "GET /api/v1/me answered 502: <html>Bad gateway</html>"


def test_an_unreachable_server_says_where_it_looked():
    def refused(*args):
        raise ConnectionRefusedError(111, "Connection refused")

    with pytest.raises(MultiFlexiError) as caught:
        Client("http://127.0.0.1:9", transport=refused).request("GET", "/me")
    assert caught.value.status == 0
    assert caught.value.message.startswith("cannot reach MultiFlexi at http://127.0.0.1:9:")


def test_items_reads_every_page():
    pages = {0: [{"id": 1}, {"id": 2}], 2: [{"id": 3}]}

    def server(method, url, headers, body, timeout, validate_certs, auth):
        offset = int(parse_qs(urlsplit(url).query)["offset"][0])
        return 200, json.dumps({"items": pages.get(offset, []), "total": 3, "offset": offset})

    assert Client("http://h", transport=server).items("/companies") == [
        {"id": 1},
        {"id": 2},
        {"id": 3},
    ]
