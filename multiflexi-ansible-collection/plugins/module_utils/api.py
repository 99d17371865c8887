# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one REST client of the collection: connection options, requests, errors.

Every module builds a :class:`MultiFlexiModule`, which adds the connection options
(documented once in the ``multiflexi.multiflexi.auth`` doc fragment) with their
environment fallbacks, and talks to ``<multiflexi_url>/api/v1`` through
:meth:`MultiFlexiModule.request`. Only ``ansible.module_utils`` is imported: the
controller needs no extra Python package.
"""

import json

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode
from ansible.module_utils.urls import open_url

API_PREFIX = "/api/v1"

#: how the server shows a value it never gives back (secrets, credential values)
REDACTED = "***"

AUTH_ARGSPEC = dict(
    multiflexi_url=dict(
        type="str",
        default="http://127.0.0.1:8080",
        fallback=(env_fallback, ["MULTIFLEXI_URL"]),
    ),
    multiflexi_token=dict(type="str", no_log=True, fallback=(env_fallback, ["MULTIFLEXI_TOKEN"])),
    multiflexi_username=dict(type="str", fallback=(env_fallback, ["MULTIFLEXI_USERNAME"])),
    multiflexi_password=dict(
        type="str", no_log=True, fallback=(env_fallback, ["MULTIFLEXI_PASSWORD"])
    ),
    validate_certs=dict(
        type="bool",
        default=True,
        aliases=["multiflexi_verify_ssl"],
        fallback=(env_fallback, ["MULTIFLEXI_VERIFY_SSL"]),
    ),
    request_timeout=dict(
        type="float", default=30.0, fallback=(env_fallback, ["MULTIFLEXI_REQUEST_TIMEOUT"])
    ),
)


class MultiFlexiError(Exception):
    """An answer the module cannot use: ``status`` 0 when the server was not reached."""

    def __init__(self, status, message, problem=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.problem = problem or {}


def path(*parts):
    """An API path from its parts, each quoted: ``path("companies", 3)`` -> ``/companies/3``."""
    return "".join("/" + quote(str(part), safe="") for part in parts)


def open_url_transport(method, url, headers, body, timeout, validate_certs, auth):
    """Send one request with ``ansible.module_utils.urls``; (status, text)."""
    kwargs = dict(
        method=method,
        headers=headers,
        data=body,
        timeout=timeout,
        validate_certs=validate_certs,
        follow_redirects="safe",
    )
    if auth:
        kwargs.update(url_username=auth[0], url_password=auth[1], force_basic_auth=True)
    try:
        response = open_url(url, **kwargs)
    except HTTPError as error:
        try:
            text = error.read()
        except Exception:  # the body of an error answer is optional
            text = b""
        return error.code, text.decode("utf-8", "replace") if text else ""
    return response.getcode(), response.read().decode("utf-8")


class Client:
    """Requests to one MultiFlexi server, with the caller's credentials.

    ``transport`` sends one request and answers ``(status, text)``; unit tests give a
    function that plays the server.
    """

    def __init__(
        self,
        url,
        token=None,
        username=None,
        password=None,
        validate_certs=True,
        timeout=30.0,
        transport=None,
    ):
        self.base = url.rstrip("/")
        if self.base.endswith(API_PREFIX):
            self.base = self.base[: -len(API_PREFIX)]
        self.token = token
        self.auth = (username, password) if username and not token else None
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.transport = transport or open_url_transport

    def request(self, method, api_path, data=None, query=None, accept=(200, 201, 202, 204)):
        """The decoded JSON answer (None when empty); raises :class:`MultiFlexiError`."""
        url = self.base + API_PREFIX + api_path
        if query:
            pairs = [(k, v) for k, v in sorted(query.items()) if v is not None]
            if pairs:
                url += "?" + urlencode([(k, _text(v)) for k, v in pairs])
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        body = None
        if data is not None:
            body = json.dumps(data)
            headers["Content-Type"] = "application/json"
        try:
            status, text = self.transport(
                method, url, headers, body, self.timeout, self.validate_certs, self.auth
            )
        except URLError as error:
            raise MultiFlexiError(
                0,
                "cannot reach MultiFlexi at {}: {}".format(
                    self.base, getattr(error, "reason", error)
                ),
            ) from None
        except (OSError, ValueError) as error:  # timeouts, refused connections, bad URLs
            raise MultiFlexiError(0, f"cannot reach MultiFlexi at {self.base}: {error}") from None
        answer = _decode(text)
        if status not in accept:
            raise _failure(method, api_path, status, answer, text)
        return answer

    def items(self, api_path, query=None):
        """Every item of a paged list (``items``/``total``/``limit``/``offset``)."""
        found = []
        query = dict(query or {})
        offset = 0
        while True:
            query.update(limit=500, offset=offset)
            page = self.request("GET", api_path, query=query) or {}
            items = page.get("items", [])
            found.extend(items)
            offset += len(items)
            if not items or offset >= page.get("total", 0):
                return found


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _decode(text):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _failure(method, api_path, status, answer, text):
    problem = answer if isinstance(answer, dict) else {}
    detail = problem.get("detail") or problem.get("title") or (text or "").strip()[:300]
    errors = problem.get("errors") or []
    message = f"{method} {API_PREFIX + api_path} answered {status}: {detail}"
    if errors and errors != [detail]:
        message += " (" + "; ".join(str(e) for e in errors) + ")"
    return MultiFlexiError(status, message, problem)


class MultiFlexiModule(AnsibleModule):
    """An AnsibleModule with the connection options and a :class:`Client` as ``self.api``."""

    #: set by unit tests to play the server instead of opening connections
    transport = None

    def __init__(self, argument_spec=None, **kwargs):
        spec = dict(AUTH_ARGSPEC)
        spec.update(argument_spec or {})
        mutually_exclusive = list(kwargs.pop("mutually_exclusive", []))
        mutually_exclusive.append(("multiflexi_token", "multiflexi_username"))
        super().__init__(
            argument_spec=spec,
            mutually_exclusive=mutually_exclusive,
            required_together=[
                ("multiflexi_username", "multiflexi_password"),
                *list(kwargs.pop("required_together", [])),
            ],
            **kwargs,
        )
        self.api = Client(
            self.params["multiflexi_url"],
            token=self.params["multiflexi_token"],
            username=self.params["multiflexi_username"],
            password=self.params["multiflexi_password"],
            validate_certs=self.params["validate_certs"],
            timeout=self.params["request_timeout"],
            transport=type(self).transport,
        )

    def call(self, method, api_path, data=None, query=None, accept=(200, 201, 202, 204)):
        """:meth:`Client.request`, failing the task with the server's message."""
        try:
            return self.api.request(method, api_path, data=data, query=query, accept=accept)
        except MultiFlexiError as error:
            self.fail_from(error)

    def items(self, api_path, query=None):
        try:
            return self.api.items(api_path, query=query)
        except MultiFlexiError as error:
            self.fail_from(error)

    def fail_from(self, error):
        extra = {"status": error.status}
        for key in ("errors", "fields", "kind", "missing"):
            if key in error.problem:
                extra[key] = error.problem[key]
        self.fail_json(msg=error.message, **extra)
