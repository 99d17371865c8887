#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: run_template_info
short_description: Read MultiFlexi run templates and their schedules
version_added: 0.1.0
description:
  - Returns the run template with O(id), or the run templates of O(company), O(application)
    and O(name) (each filter optional), each with its schedule in words and its next times.
options:
  id:
    description: The run template's id.
    type: int
    aliases: [runtemplate_id, run_template_id]
  name:
    description: Only the run templates called exactly this.
    type: str
  company:
    description: Only the run templates of this company, by id or slug.
    type: str
    aliases: [company_id]
  application:
    description: Only the run templates of this application, by id, uuid or name.
    type: str
    aliases: [app_id, app_uuid]
  active:
    description: Only the active (V(true)) or inactive (V(false)) ones.
    type: bool
  schedule_count:
    description: How many next scheduled times to show for each (V(0) for no schedule).
    type: int
    default: 5
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
  - multiflexi.multiflexi.attributes.info
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: ACME's run templates
  multiflexi.multiflexi.run_template_info:
    company: acme
  register: found

- name: One, by its natural key
  multiflexi.multiflexi.run_template_info:
    company: acme
    application: fb_statement_downloader
    name: Bank statements
"""

RETURN = r"""
run_templates:
  description: The run templates found (secret values as C(***)), each with C(schedule).
  returned: always
  type: list
  elements: dict
  sample: [{"id": 12, "name": "Bank statements", "interval_code": "d",
            "schedule": {"schedule": "daily", "occurrences": ["2024-05-02T00:00:00+00:00"]}}]
"""

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    MultiFlexiModule,
)
from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    find,
    resolve,
)


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            id=dict(type="int", aliases=["runtemplate_id", "run_template_id"]),
            name=dict(type="str"),
            company=dict(type="str", aliases=["company_id"]),
            application=dict(type="str", aliases=["app_id", "app_uuid"]),
            active=dict(type="bool"),
            schedule_count=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["id"] is not None:
        found = find(module, "/run-templates", "run template", params["id"])
        items = [found] if found is not None else []
    else:
        company = resolve(module, "/companies", "company", params["company"], ("slug",))
        application = resolve(
            module, "/applications", "application", params["application"], ("uuid", "name")
        )
        query = dict(
            company_id=company["id"] if company else None,
            application_id=application["id"] if application else None,
            name=params["name"],
            active=params["active"],
        )
        items = module.items("/run-templates", query=query)
    if params["schedule_count"] > 0:
        for item in items:
            schedule = module.call(
                "GET",
                "/run-templates/{}/schedule".format(item["id"]),
                query=dict(count=params["schedule_count"]),
            )
            item["schedule"] = dict(
                schedule=schedule["schedule"], occurrences=schedule["occurrences"]
            )
    module.exit_json(changed=False, run_templates=items)


if __name__ == "__main__":
    main()
