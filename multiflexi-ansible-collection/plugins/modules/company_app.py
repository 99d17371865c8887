#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: company_app
short_description: Assign a MultiFlexi application to a company, or unassign it
version_added: 0.1.0
description:
  - Makes an application assigned to a company (O(state=present)) or not (O(state=absent)).
  - Assigning makes a default run template (named after the application, not scheduled)
    when the company has none of the application; its id is returned.
  - Unassigning deletes the company's run templates of the application, with their jobs.
  - The company is found by O(company_id) or O(company) (its slug); the application by
    O(application_id), O(application_uuid) or O(application_name).
  - Needs the company's admin role.
options:
  company_id:
    description: The company's id.
    type: int
  company:
    description: The company's slug.
    type: str
    aliases: [company_slug]
  application_id:
    description: The application's id.
    type: int
    aliases: [app_id]
  application_uuid:
    description: The application's uuid.
    type: str
    aliases: [app_uuid]
  application_name:
    description: The application's name.
    type: str
    aliases: [app_name]
  state:
    description: Whether the application should be assigned to the company.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
attributes:
  check_mode:
    description: Nothing is written; the task says whether the assignment would change.
    support: full
  diff_mode:
    description: Shows the assignment's state before and after.
    support: full
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: ACME may use the probe
  multiflexi.multiflexi.company_app:
    company: acme
    application_uuid: 97f30cf9-2d9e-4d91-ad65-9bdd8b4d8f95
  register: assigned

- name: Show the default run template the assignment made
  ansible.builtin.debug:
    var: assigned.run_template_id

- name: No longer (its run templates go too)
  multiflexi.multiflexi.company_app:
    company_id: 3
    app_id: 4
    state: absent
"""

RETURN = r"""
company_id:
  description: The company's id.
  returned: always
  type: int
application_id:
  description: The application's id.
  returned: always
  type: int
run_template_id:
  description:
    - The company's first run template of the application (the default one an assignment
      makes); none in check mode for an assignment that would be made.
  returned: when O(state=present)
  type: int
removed_run_templates:
  description: How many run templates the unassignment deleted.
  returned: when O(state=absent) and the application was assigned (not in check mode)
  type: int
"""

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    MultiFlexiModule,
    path,
)
from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    Outcome,
    find,
)


def first_run_template(module, company_id, application_id):
    items = module.items(
        "/run-templates", {"company_id": company_id, "application_id": application_id}
    )
    return min((item["id"] for item in items), default=None)


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            company_id=dict(type="int"),
            company=dict(type="str", aliases=["company_slug"]),
            application_id=dict(type="int", aliases=["app_id"]),
            application_uuid=dict(type="str", aliases=["app_uuid"]),
            application_name=dict(type="str", aliases=["app_name"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_one_of=[
            ("company_id", "company"),
            ("application_id", "application_uuid", "application_name"),
        ],
        supports_check_mode=True,
    )
    params = module.params
    outcome = Outcome(module, "assignment")
    company = find(
        module, "/companies", "company", params["company_id"], {"slug": params["company"]}
    )
    if company is None:
        module.fail_json(msg="company {} not found".format(params["company_id"] or params["company"]))
    if params["application_uuid"]:
        key = {"uuid": params["application_uuid"]}
    else:
        key = {"name": params["application_name"]}
    application = find(module, "/applications", "application", params["application_id"], key)
    if application is None:
        what = params["application_id"] or next(iter(key.values()))
        module.fail_json(msg=f"application {what} not found")
    ids = {"company_id": company["id"], "application_id": application["id"]}
    assigned = bool(module.items("/company-applications", ids))
    shown = {"company": company.get("slug"), "application": application.get("name")}
    api_path = path("companies", company["id"], "applications", application["id"])

    if params["state"] == "absent":
        result = {}
        if assigned:
            outcome.removed(shown)
            answer = outcome.write("DELETE", api_path)
            if answer is not None:
                result["removed_run_templates"] = answer.get("removed_run_templates")
        outcome.exit(**dict(ids, **result))

    if assigned:
        run_template_id = first_run_template(module, company["id"], application["id"])
    else:
        outcome.created(shown)
        answer = outcome.write("PUT", api_path)
        run_template_id = answer.get("run_template_id") if answer else None
    outcome.exit(run_template_id=run_template_id, **ids)


if __name__ == "__main__":
    main()
