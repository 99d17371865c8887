#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: run_template
short_description: Create, change or delete a MultiFlexi run template
version_added: 0.1.0
description:
  - Makes a run template (an application configured for a company, with its schedule) present
    with the given options, or absent.
  - The run template is found by O(id), or else by its natural key, O(name) within O(company)
    and O(application).
  - Each piece is compared on its own and only when the task gives it, settings field by field,
    O(config) key by key, O(credentials) as a set, O(actions) list by list; the diff shows each.
  - Creating a run template assigns its application to the company if it was not.
options:
  id:
    description: The run template's id. Without it, O(name), O(company) and O(application) find it.
    type: int
    aliases: [runtemplate_id, run_template_id]
  name:
    description: The run template's name, unique within its company and application.
    type: str
  company:
    description: The company, by id or slug. Needed without O(id).
    type: str
    aliases: [company_id]
  application:
    description: The application, by id, uuid or name. Needed to create the run template.
    type: str
    aliases: [app_id, app_uuid, app]
  note:
    description: A free note.
    type: str
  active:
    description:
      - Whether the scheduler runs it. Activating needs every required field filled.
      - A new run template is active unless this is V(false).
    type: bool
  interval_code:
    description:
      - How often it runs, a code (V(n) never, V(i) minutely, V(h) hourly, V(d) daily, V(w) weekly,
        V(m) monthly, V(y) yearly, V(c) by O(cron)) or its name such as V(daily).
    type: str
    aliases: [interv, interval]
  cron:
    description: The cron expression of a custom schedule.
    type: str
  delay:
    description: Seconds after the scheduled time before it starts.
    type: int
  timezone:
    description: The time zone its schedule is read in.
    type: str
  executor:
    description: The executor that runs its jobs (V(Native), V(Podman)...).
    type: str
  queue:
    description: The queue its jobs go to.
    type: str
  timeout:
    description: Seconds a job may run.
    type: int
  max_concurrency:
    description: Jobs of it that may run at once.
    type: int
  max_attempts:
    description: Attempts of a job before it fails.
    type: int
  retry_backoff:
    description: How the gap between attempts grows.
    type: str
    choices: [none, fixed, linear, exponential]
  retry_min_gap:
    description: Seconds between attempts.
    type: int
  deadline_offset:
    description: When a scheduled run is late (V(+3h), or V(HH:MM) of its day).
    type: str
  allow_late:
    description: Whether a run after its deadline still fulfils it.
    type: bool
  config:
    description:
      - Configuration values, field name to value (compared key by key; V(null) leaves a key alone).
      - The values of the application's secret fields are never shown; see O(update_secrets).
    type: dict
    aliases: [values]
  update_secrets:
    description:
      - V(always) sends the secret values of O(config) and O(actions) on every run (the server
        never shows them, so the task reports changed); V(on_create) only when the run template
        is created.
    type: str
    choices: [always, on_create]
    default: always
  credentials:
    description:
      - The credentials bound to it, by id or name within its company (the whole set is
        bound; others are unbound). V([]) unbinds every one.
    type: list
    elements: str
  actions:
    description:
      - The actions after a success and after a failure; each list given replaces the stored one.
      - Each action is a dict with C(action) (its kind), C(options) (dict) and C(enabled) (default true).
    type: dict
    suboptions:
      success:
        description: Actions after a success, in order.
        type: list
        elements: dict
      failure:
        description: Actions after anything else, in order.
        type: list
        elements: dict
  state:
    description: Whether the run template should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
  - multiflexi.multiflexi.attributes
attributes:
  diff_mode:
    description: Shows before and after of each setting, value, binding and action list that changes.
    support: full
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: Daily import of ACME's bank statements
  multiflexi.multiflexi.run_template:
    name: Bank statements
    company: acme
    application: fb_statement_downloader
    interval_code: daily
    config:
      ACCOUNT_NUMBER: "123456789"
      FIO_TOKEN: "{{ vault_fio_token }}"
    update_secrets: on_create
    credentials: [ACME AbraFlexi]
    actions:
      failure:
        - action: webhook
          options:
            url: https://hooks.example.com/failed

- name: Stop it
  multiflexi.multiflexi.run_template:
    name: Bank statements
    company: acme
    application: fb_statement_downloader
    active: false

- name: Gone
  multiflexi.multiflexi.run_template:
    runtemplate_id: 12
    state: absent
"""

RETURN = r"""
run_template:
  description: The run template after the task (in check mode, as it would be); secret values as C(***).
  returned: when O(state=present)
  type: dict
  sample: {"id": 12, "name": "Bank statements", "company_id": 3, "application_id": 5,
           "active": true, "interval_code": "d", "values": {"FIO_TOKEN": "***"}, "credential_ids": [4]}
actions:
  description: The actions after success and failure (secret options as C(***)), when O(actions) was given.
  returned: when O(actions) is given
  type: dict
id:
  description: The run template's id (none in check mode for one that would be created).
  returned: when the run template exists
  type: int
"""

import copy

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    REDACTED,
    MultiFlexiModule,
)
from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    UPDATE_SECRETS_SPEC,
    Outcome,
    differences,
    ensure_absent,
    ensure_present,
    find,
    redacted,
    resolve,
    reveal,
)

SETTINGS = (
    "name",
    "note",
    "interval_code",
    "cron",
    "delay",
    "timezone",
    "executor",
    "queue",
    "timeout",
    "max_concurrency",
    "max_attempts",
    "retry_backoff",
    "retry_min_gap",
    "deadline_offset",
    "allow_late",
)
MODES = ("success", "failure")


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            id=dict(type="int", aliases=["runtemplate_id", "run_template_id"]),
            name=dict(type="str"),
            company=dict(type="str", aliases=["company_id"]),
            application=dict(type="str", aliases=["app_id", "app_uuid", "app"]),
            note=dict(type="str"),
            active=dict(type="bool"),
            interval_code=dict(type="str", aliases=["interv", "interval"]),
            cron=dict(type="str"),
            delay=dict(type="int"),
            timezone=dict(type="str"),
            executor=dict(type="str"),
            queue=dict(type="str"),
            timeout=dict(type="int"),
            max_concurrency=dict(type="int"),
            max_attempts=dict(type="int"),
            retry_backoff=dict(type="str", choices=["none", "fixed", "linear", "exponential"]),
            retry_min_gap=dict(type="int"),
            deadline_offset=dict(type="str"),
            allow_late=dict(type="bool"),
            config=dict(type="dict", aliases=["values"], no_log=True),
            update_secrets=UPDATE_SECRETS_SPEC,
            credentials=dict(type="list", elements="str"),
            actions=dict(
                type="dict",
                no_log=True,
                options=dict(
                    success=dict(type="list", elements="dict"),
                    failure=dict(type="list", elements="dict"),
                ),
            ),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_one_of=[("id", "name")],
        supports_check_mode=True,
    )
    params = module.params
    outcome = Outcome(module, "run template")
    company = resolve(module, "/companies", "company", params["company"], ("slug",))
    application = resolve(
        module, "/applications", "application", params["application"], ("uuid", "name")
    )
    secret_fields = set(f["name"] for f in (application or {}).get("fields", []) if f.get("secret"))
    current = _find(module, params, company, application)
    if current is not None and application is None:
        application = module.call("GET", "/applications/{}".format(current["application_id"]))
        secret_fields = set(f["name"] for f in application.get("fields", []) if f.get("secret"))
    config = params["config"]
    reveal(module, config, secret_fields)
    kinds = _reveal_actions(module, params["actions"])

    if params["state"] == "absent":
        ensure_absent(module, outcome, current, "/run-templates")
        outcome.exit()

    if current is None and params["id"] is not None:
        module.fail_json(msg="run template {} not found".format(params["id"]))
    if current is None and (company is None or application is None):
        module.fail_json(
            msg="run template {} not found: give its company and application to create it".format(
                params["name"]
            )
        )
    secrets = set("values." + name for name in secret_fields)
    update_secrets = params["update_secrets"] if current is not None else "always"
    desired = dict((key, params[key]) for key in SETTINGS)
    if current is not None:
        if desired["name"] == current.get("name"):
            desired["name"] = None
        if desired["interval_code"] is not None and desired["interval_code"] in (
            current.get("interval"),
            current.get("interval_code"),
        ):
            desired["interval_code"] = None
    company_id = company["id"] if company is not None else current["company_id"]
    credential_ids = _credential_ids(module, params["credentials"], company_id)

    if current is None:
        extra = dict(company_id=company["id"], application_id=application["id"])
        if params["active"] is not None:
            extra["active"] = params["active"]
        if config:
            extra["values"] = config
        rt = ensure_present(
            module, outcome, None, desired, "/run-templates", create_extra=extra, secrets=secrets
        )
        if credential_ids:
            outcome.after["credential_ids"] = sorted(credential_ids)
    else:
        rt = ensure_present(module, outcome, current, desired, "/run-templates")
        rt = _values(module, outcome, rt, config, secrets, update_secrets)
    rt = _credentials(module, outcome, rt, credential_ids, current is None)
    result = {}
    if params["actions"] is not None:
        result["actions"] = _actions(
            module, outcome, rt, params["actions"], kinds, update_secrets, current is None
        )
    if current is not None:
        rt = _active(module, outcome, rt, params["active"])
    outcome.exit(run_template=rt, id=rt.get("id"), **result)


def _find(module, params, company, application):
    if params["id"] is not None:
        return find(module, "/run-templates", "run template", params["id"])
    if company is None:
        module.fail_json(msg="give the run template's id, or its company with its name")
    query = dict(company_id=company["id"], name=params["name"])
    if application is not None:
        query["application_id"] = application["id"]
    return find(module, "/run-templates", "run template", query=query)


def _credential_ids(module, refs, company_id):
    """The ids the task names, each credential found by id or by name within the company."""
    if refs is None:
        return None
    known = module.items("/credentials", query=dict(company_id=company_id))
    ids = set()
    for ref in refs:
        text = str(ref).strip()
        matches = [c for c in known if str(c["id"]) == text or c["name"] == text]
        if not matches:
            module.fail_json(msg=f"credential {text} not found in company {company_id}")
        if len(matches) > 1:
            module.fail_json(
                msg="more than one credential is called {}: give its id (one of {})".format(
                    text, ", ".join(str(c["id"]) for c in matches)
                )
            )
        ids.add(matches[0]["id"])
    return ids


def _values(module, outcome, rt, config, secrets, update_secrets):
    if not config:
        return rt
    changes = differences(
        {"values": rt.get("values") or {}}, {"values": config}, secrets, update_secrets
    )
    if not changes:
        return rt
    outcome.record(changes)
    body = dict((dotted[len("values.") :], config[dotted[len("values.") :]]) for dotted in changes)
    answer = outcome.write(
        "PATCH", "/run-templates/{}/values".format(rt["id"]), data={"values": body}
    )
    if answer is not None:
        return answer
    expected = copy.deepcopy(rt)
    expected.setdefault("values", {}).update(
        dict(
            (name, REDACTED if "values." + name in secrets else value)
            for name, value in body.items()
        )
    )
    return expected


def _credentials(module, outcome, rt, wanted, new):
    if wanted is None or rt.get("id") is None:
        return rt
    have = set(rt.get("credential_ids") or [])
    if have == wanted:
        return rt
    if not new:
        outcome.record({"credential_ids": (sorted(have), sorted(wanted))})
    answer = None
    for credential_id in sorted(wanted - have):
        answer = (
            outcome.write("PUT", "/run-templates/{}/credentials/{}".format(rt["id"], credential_id))
            or answer
        )
    for credential_id in sorted(have - wanted):
        answer = (
            outcome.write(
                "DELETE",
                "/run-templates/{}/credentials/{}".format(rt["id"], credential_id),
                accept=(200, 204),
            )
            or answer
        )
    if answer is not None:
        return module.call("GET", "/run-templates/{}".format(rt["id"]))
    return dict(rt, credential_ids=sorted(wanted))


def _normal(action):
    """An action as the task gives it, with the server's defaults."""
    if not isinstance(action, dict) or not action.get("action"):
        return None
    return dict(
        action=action["action"],
        enabled=action.get("enabled", True) not in (False, "false", "no", 0),
        options=dict(action.get("options") or {}),
    )


def _reveal_actions(module, given):
    """Unmask the action options that are not secret (by their kind's catalogue)."""
    if not given:
        return {}
    kinds = dict(
        (k["name"], set(o["name"] for o in k.get("options", []) if o.get("secret")))
        for k in (module.call("GET", "/action-kinds") or {}).get("items", [])
    )
    for mode in MODES:
        for action in given.get(mode) or []:
            if not isinstance(action, dict):
                continue
            module.no_log_values.discard(str(action.get("action")))
            reveal(module, action.get("options") or {}, kinds.get(action.get("action"), set()))
    return kinds


def _shown(actions, kinds):
    return [
        dict(a, options=redacted(a["options"], set(kinds.get(a["action"], ())))) for a in actions
    ]


def _actions(module, outcome, rt, given, kinds, update_secrets, new):
    desired = {}
    for mode in MODES:
        if given.get(mode) is None:
            continue
        items = [_normal(a) for a in given[mode]]
        if None in items:
            module.fail_json(msg=f"each of actions.{mode} needs its 'action' (the kind)")
        desired[mode] = items
    if rt.get("id") is None:
        outcome.after["actions"] = dict((m, _shown(a, kinds)) for m, a in desired.items())
        return desired
    current = module.call("GET", "/run-templates/{}/actions".format(rt["id"])) or {}
    changed = {}
    for mode, wanted in desired.items():
        have = [
            dict(action=a["action"], enabled=a["enabled"], options=a.get("options") or {})
            for a in current.get(mode) or []
        ]
        if _differ(have, wanted, kinds, update_secrets):
            changed[mode] = (have, _shown(wanted, kinds))
    if not changed:
        return dict((m, current.get(m)) for m in MODES)
    for mode, (have, shown) in changed.items():
        if not new:
            outcome.before.setdefault("actions", {})[mode] = have
        outcome.after.setdefault("actions", {})[mode] = shown
    body = dict((mode, desired[mode]) for mode in changed)
    answer = outcome.write("PUT", "/run-templates/{}/actions".format(rt["id"]), data=body)
    if answer is None:
        return dict((m, changed[m][1] if m in changed else current.get(m)) for m in MODES)
    return dict((m, answer.get(m)) for m in MODES)


def _differ(have, wanted, kinds, update_secrets):
    if len(have) != len(wanted):
        return True
    for index, new in enumerate(wanted):
        old = have[index]
        if old["action"] != new["action"] or bool(old["enabled"]) != bool(new["enabled"]):
            return True
        secret = set(kinds.get(new["action"], ()))
        if differences(old["options"], new["options"], secret, update_secrets):
            return True
    return False


def _active(module, outcome, rt, active):
    if active is None or bool(rt.get("active")) == active:
        return rt
    outcome.record({"active": (rt.get("active"), active)})
    verb = "activate" if active else "deactivate"
    answer = outcome.write("POST", "/run-templates/{}/{}".format(rt["id"], verb))
    return answer if answer is not None else dict(rt, active=active)


if __name__ == "__main__":
    main()
