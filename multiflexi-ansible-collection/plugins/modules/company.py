#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: company
short_description: Create, change or delete a MultiFlexi company
version_added: 0.1.0
description:
  - Makes a company (a tenant of MultiFlexi) present with the given options, or absent.
  - The company is found by O(id), or else by its O(slug), or else by its O(name) (names are
    not unique, so the task fails when several companies have it).
  - Only the options a task gives are compared and changed.
  - Creating and deleting companies needs a global administrator; changing one, the company's
    admin role.
options:
  id:
    description: The company's id. Without it, O(slug) finds the company.
    type: int
    aliases: [company_id]
  slug:
    description:
      - The company's short unique name (letters, digits, C(-) and C(_)), its natural key.
      - When a new company is created without it, the server derives it from O(name).
      - Letters are lowered (the original MultiFlexi's company codes, such as C(DEMO), are upper
        case; slugs are lower case).
    type: str
    aliases: [code]
  name:
    description: The company's name. Needed to create it.
    type: str
  ic:
    description: The company's registration number (IČO).
    type: str
    aliases: [ico]
  email:
    description: The company's e-mail address (V("") for none).
    type: str
  logo:
    description: The company's logo as a base64 C(data:) URI of a PNG, JPEG, GIF, WebP or SVG image.
    type: str
  zabbix_host:
    description: The host name the company's jobs are reported under in Zabbix.
    type: str
  enabled:
    description: Whether the company's run templates are scheduled.
    type: bool
  settings:
    description: Free-form settings of the company (compared key by key).
    type: dict
  state:
    description: Whether the company should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
  - multiflexi.multiflexi.attributes
attributes:
  diff_mode:
    description: Shows before and after of each option that changes.
    support: full
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: A company
  multiflexi.multiflexi.company:
    slug: acme
    name: ACME s.r.o.
    ic: "12345678"
    email: office@acme.example

- name: Disable it
  multiflexi.multiflexi.company:
    slug: acme
    enabled: false

- name: Gone, with everything it owns
  multiflexi.multiflexi.company:
    slug: acme
    state: absent
"""

RETURN = r"""
company:
  description: The company after the task (in check mode, as it would be); absent after O(state=absent).
  returned: when O(state=present)
  type: dict
  sample: {"id": 3, "name": "ACME s.r.o.", "slug": "acme", "ic": "12345678", "enabled": true}
id:
  description: The company's id (none in check mode for a company that would be created).
  returned: when the company exists
  type: int
"""

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    MultiFlexiModule,
)
from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    Outcome,
    ensure_absent,
    ensure_present,
    find,
)

FIELDS = ("name", "slug", "ic", "email", "logo", "zabbix_host", "enabled", "settings")


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            id=dict(type="int", aliases=["company_id"]),
            slug=dict(type="str", aliases=["code"]),
            name=dict(type="str"),
            ic=dict(type="str", aliases=["ico"]),
            email=dict(type="str"),
            logo=dict(type="str"),
            zabbix_host=dict(type="str"),
            enabled=dict(type="bool"),
            settings=dict(type="dict"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_one_of=[("id", "slug", "name")],
        supports_check_mode=True,
    )
    params = module.params
    if params["slug"]:
        params["slug"] = params["slug"].lower()
    outcome = Outcome(module, "company")
    key = {"slug": params["slug"]} if params["slug"] else {"name": params["name"]}
    current = find(module, "/companies", "company", params["id"], key)
    if params["state"] == "absent":
        ensure_absent(module, outcome, current, "/companies")
        outcome.exit()
    if current is None and params["id"] is not None:
        module.fail_json(
            msg="company {} not found: create it by slug, without an id".format(params["id"])
        )
    if current is None and not params["name"]:
        module.fail_json(
            msg="company {} not found: give its name to create it".format(params["slug"])
        )
    desired = dict((key, params[key]) for key in FIELDS)
    if current is not None and desired["slug"] == current.get("slug"):
        desired["slug"] = None
    company = ensure_present(module, outcome, current, desired, "/companies")
    outcome.exit(company=company, id=company.get("id"))


if __name__ == "__main__":
    main()
