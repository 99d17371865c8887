"""``webhook``: POST the job's outcome (and its masked output) as JSON to a URL.

Options: ``url`` (or ``uri``, http or https), ``timeout`` seconds (10),
``include_output`` (true; at most 64 KiB of stdout); the catalogue
(:mod:`multiflexi.core.actionkinds`) declares them. The URL is secret (it may carry a
token): it reaches here decrypted and is never written on the job's output.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from multiflexi.core.actionkinds import BUILTIN
from multiflexi.executor.actions import ActionContext, ActionError, option

OUTPUT_LIMIT = 64 * 1024
DEFAULT_TIMEOUT = BUILTIN["webhook"].option("timeout").default  # type: ignore[union-attr]


def payload(context: ActionContext) -> dict[str, object]:
    job, outcome = context.job, context.outcome
    body: dict[str, object] = {
        "job_id": job.id,
        "run_template_id": job.run_template_id,
        "run_template_name": context.run_template.name,
        "company_id": job.company_id,
        "application_id": job.application_id,
        "state": outcome.state,
        "exit_code": outcome.exit_code,
        "exit_description": outcome.description,
        "severity": outcome.severity,
        "attempt": job.attempt,
    }
    if option(context, "include_output", default=True) not in (False, "false", "0", 0):
        body["output"] = context.output(OUTPUT_LIMIT)
    return body


def webhook(context: ActionContext) -> None:
    url = str(option(context, "url", "uri", default=""))
    if not url.startswith(("http://", "https://")):
        raise ActionError("option url: give an http:// or https:// address")
    timeout = float(option(context, "timeout", default=DEFAULT_TIMEOUT))
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=json.dumps(payload(context)).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "multiflexi-executor"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read(1024)
    except urllib.error.HTTPError as exc:
        raise ActionError(f"the address answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ActionError(f"the address is not reachable ({reason})") from None
