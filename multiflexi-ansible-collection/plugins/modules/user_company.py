#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: user_company
short_description: Give a MultiFlexi user a role in a company, or take it away
version_added: 0.1.0
description:
  - Makes a user's role in a company the given one, or makes the user no member of the
    company.
  - The user is found by id or login (O(user)), or by e-mail address (O(email)); the company
    by id or slug.
  - A user who already has the role is left alone (idempotent; the original collection
    reported a change on every run).
  - Needs the company's admin role (or a global administrator).
options:
  user:
    description: The user, by id or by login.
    type: str
    aliases: [user_id, login]
  email:
    description: The user, by e-mail address (fails when several users share it).
    type: str
  company:
    description: The company, by id or by slug.
    type: str
    required: true
    aliases: [company_id]
  role:
    description: The user's role in the company (one role per user and company).
    type: str
    choices: [admin, manager, viewer]
    default: viewer
  state:
    description: Whether the user should be a member of the company.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
  - multiflexi.multiflexi.attributes
attributes:
  diff_mode:
    description: Shows the role before and after.
    support: full
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: Jane manages ACME
  multiflexi.multiflexi.user_company:
    user: jane
    company: acme
    role: manager

- name: Joe no longer sees ACME
  multiflexi.multiflexi.user_company:
    email: joe@acme.example
    company: acme
    state: absent
"""

RETURN = r"""
assignment:
  description: The user's membership after the task (in check mode, as it would be).
  returned: when O(state=present)
  type: dict
  sample: {"company_id": 3, "user_id": 5, "role": "manager"}
"""

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    MultiFlexiModule,
)
from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    Outcome,
    find,
    resolve,
)


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            user=dict(type="str", aliases=["user_id", "login"]),
            email=dict(type="str"),
            company=dict(type="str", required=True, aliases=["company_id"]),
            role=dict(type="str", default="viewer", choices=["admin", "manager", "viewer"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_one_of=[("user", "email")],
        mutually_exclusive=[("user", "email")],
        supports_check_mode=True,
    )
    params = module.params
    outcome = Outcome(module, "role")
    if params["user"] is not None:
        user = resolve(module, "/users", "user", params["user"], ("login",))
    else:
        user = find(module, "/users", "user", query={"email": params["email"]})
        if user is None:
            module.fail_json(msg="no user has the e-mail address {}".format(params["email"]))
    company = resolve(module, "/companies", "company", params["company"], ("slug",))
    memberships = module.items("/users/{}/companies".format(user["id"]))
    role = next((m["role"] for m in memberships if m["company_id"] == company["id"]), None)
    where = "/companies/{}/users/{}".format(company["id"], user["id"])
    assignment = dict(company_id=company["id"], user_id=user["id"], login=user["login"])
    if params["state"] == "absent":
        if role is not None:
            outcome.removed(dict(assignment, role=role))
            outcome.write("DELETE", where, accept=(200, 204, 404))
        outcome.exit()
    if role != params["role"]:
        if role is None:
            outcome.created(dict(assignment, role=params["role"]))
        else:
            outcome.record({"role": (role, params["role"])})
        outcome.write("PUT", where, data={"role": params["role"]})
    outcome.exit(assignment=dict(assignment, role=params["role"]))


if __name__ == "__main__":
    main()
