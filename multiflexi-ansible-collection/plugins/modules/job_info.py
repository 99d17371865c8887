#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: job_info
short_description: Read MultiFlexi jobs
version_added: 0.1.0
description:
  - Returns the job with O(id), or the newest jobs of a run template or a company, filtered by
    state.
options:
  id:
    description: The job's id.
    type: int
    aliases: [job_id]
  run_template:
    description: Only the jobs of this run template, by id, or by name with O(company).
    type: str
    aliases: [runtemplate_id, run_template_id]
  company:
    description: Only the jobs of this company, by id or slug.
    type: str
    aliases: [company_id]
  application:
    description: The application of O(run_template) when it is given by a name not unique in the company.
    type: str
    aliases: [app_id, app_uuid]
  state:
    description: Only the jobs in one of these states.
    type: list
    elements: str
    choices: [scheduled, queued, waiting, running, success, failed, lost, cancelled, blocked, missed]
  limit:
    description: At most this many jobs, newest first.
    type: int
    default: 50
  output:
    description: Also return each job's output.
    type: bool
    default: false
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
  - multiflexi.multiflexi.attributes.info
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: The failed jobs of ACME's bank import
  multiflexi.multiflexi.job_info:
    company: acme
    run_template: Bank statements
    state: [failed, lost]
    limit: 10

- name: One job with its output
  multiflexi.multiflexi.job_info:
    id: 345
    output: true
"""

RETURN = r"""
jobs:
  description: The jobs found, newest first (secret values as C(***)); with O(output), each has C(output).
  returned: always
  type: list
  elements: dict
  sample: [{"id": 345, "state": "success", "exit_code": 0, "run_template_id": 12}]
"""

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    MultiFlexiModule,
)
from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    find,
    find_run_template,
    job_output,
    resolve,
)

STATES = [
    "scheduled",
    "queued",
    "waiting",
    "running",
    "success",
    "failed",
    "lost",
    "cancelled",
    "blocked",
    "missed",
]


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            id=dict(type="int", aliases=["job_id"]),
            run_template=dict(type="str", aliases=["runtemplate_id", "run_template_id"]),
            company=dict(type="str", aliases=["company_id"]),
            application=dict(type="str", aliases=["app_id", "app_uuid"]),
            state=dict(type="list", elements="str", choices=STATES),
            limit=dict(type="int", default=50),
            output=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["id"] is not None:
        found = find(module, "/jobs", "job", params["id"])
        jobs = [found] if found is not None else []
    else:
        query = dict(limit=params["limit"], state=params["state"])
        if params["run_template"] is not None:
            rt = find_run_template(
                module, params["run_template"], params["company"], params["application"]
            )
            query["run_template_id"] = rt["id"]
        elif params["company"] is not None:
            company = resolve(module, "/companies", "company", params["company"], ("slug",))
            query["company_id"] = company["id"]
        jobs = (module.call("GET", "/jobs", query=query) or {}).get("items", [])
    if params["output"]:
        for job in jobs:
            job["output"] = job_output(module, job["id"])
    module.exit_json(changed=False, jobs=jobs)


if __name__ == "__main__":
    main()
