#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: job
short_description: Launch a MultiFlexi run template, optionally waiting for the job's end
version_added: 0.1.0
description:
  - Launches a run template now (or O(at) a later time) with one-time values, which makes a job.
  - A launch always reports changed (it makes a job); in check mode nothing is launched.
  - With O(wait), the task waits for the job's end and returns its state, exit code and output;
    a wait that times out fails the task, naming the job and its last state.
  - The run template is found by O(run_template) (its id, or its name within O(company) and
    O(application)).
options:
  run_template:
    description: The run template, by id, or by name with O(company) (and O(application) when
      the name is not unique in the company).
    type: str
    required: true
    aliases: [runtemplate_id, run_template_id, runtemplate]
  company:
    description: The run template's company, by id or slug (with a run template name).
    type: str
    aliases: [company_id]
  application:
    description: The run template's application, by id, uuid or name (with a run template name).
    type: str
    aliases: [app_id, app_uuid]
  env:
    description:
      - One-time environment values for this job only, name to value; they fill required fields
        the run template leaves empty.
      - The values of the application's secret fields and of O(secret_names) are never shown.
    type: dict
    aliases: [overrides]
  secret_names:
    description: Names among O(env) that are secret besides the application's secret fields.
    type: list
    elements: str
    default: []
  at:
    description: Run at this time (ISO 8601) instead of now.
    type: str
    aliases: [scheduled]
  wait:
    description: Wait for the job's end.
    type: bool
    default: false
  timeout:
    description: Seconds to wait with O(wait).
    type: int
    default: 600
  interval:
    description: Seconds between two looks at the job with O(wait).
    type: float
    default: 2
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
attributes:
  check_mode:
    description: Nothing is launched; the task says it would launch.
    support: full
  diff_mode:
    description: Not applicable, a launch changes no setting.
    support: none
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: Import the statements now and wait for it
  multiflexi.multiflexi.job:
    run_template: Bank statements
    company: acme
    env:
      DATE_FROM: "2024-01-01"
    wait: true
    timeout: 900
  register: imported

- name: Show its output
  ansible.builtin.debug:
    var: imported.output
"""

RETURN = r"""
id:
  description: The job's id.
  returned: unless in check mode
  type: int
state:
  description: The job's state (V(queued) or V(scheduled) without O(wait); V(success), V(failed)... after it).
  returned: unless in check mode
  type: str
exit_code:
  description: The job's exit code (none before its end).
  returned: unless in check mode
  type: int
output:
  description: The job's output, its lines in order.
  returned: with O(wait)
  type: str
job:
  description: The job, secret values as C(***).
  returned: unless in check mode
  type: dict
run_template_id:
  description: The run template launched.
  returned: always
  type: int
"""

import time

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    MultiFlexiModule,
)
from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    find_run_template,
    job_output,
    reveal,
)

#: the states after which a job changes no more
FINAL_STATES = ("success", "failed", "lost", "cancelled", "missed")


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            run_template=dict(
                type="str",
                required=True,
                aliases=["runtemplate_id", "run_template_id", "runtemplate"],
            ),
            company=dict(type="str", aliases=["company_id"]),
            application=dict(type="str", aliases=["app_id", "app_uuid"]),
            env=dict(type="dict", no_log=True, aliases=["overrides"]),
            secret_names=dict(type="list", elements="str", default=[], no_log=False),
            at=dict(type="str", aliases=["scheduled"]),
            wait=dict(type="bool", default=False),
            timeout=dict(type="int", default=600),
            interval=dict(type="float", default=2.0),
        ),
        supports_check_mode=True,
    )
    params = module.params
    rt = find_run_template(module, params["run_template"], params["company"], params["application"])
    application = module.call("GET", "/applications/{}".format(rt["application_id"]))
    env = dict((k, "" if v is None else str(v)) for k, v in (params["env"] or {}).items())
    secret = set(params["secret_names"])
    secret.update(f["name"] for f in application.get("fields", []) if f.get("secret"))
    reveal(module, params["env"], secret)
    if module.check_mode:
        module.exit_json(
            changed=True,
            run_template_id=rt["id"],
            msg="run template {} would be launched".format(rt["id"]),
        )
    at = params["at"] if params["at"] not in (None, "", "now") else None
    body = dict(overrides=env, secret_overrides=sorted(n for n in env if n in secret))
    if at is not None:
        body["at"] = at
    job = module.call("POST", "/run-templates/{}/launch".format(rt["id"]), data=body, accept=(202,))
    result = dict(changed=True, run_template_id=rt["id"], id=job["id"])
    if params["wait"]:
        deadline = time.monotonic() + params["timeout"]
        while job["state"] not in FINAL_STATES:
            if time.monotonic() >= deadline:
                module.fail_json(
                    msg="job {} did not end within {} s: it is {}".format(
                        job["id"], params["timeout"], job["state"]
                    ),
                    job=job,
                    state=job["state"],
                    **result,
                )
            time.sleep(max(0.1, min(params["interval"], deadline - time.monotonic())))
            job = module.call("GET", "/jobs/{}".format(job["id"]))
        result["output"] = job_output(module, job["id"])
    module.exit_json(job=job, state=job["state"], exit_code=job.get("exit_code"), **result)


if __name__ == "__main__":
    main()
