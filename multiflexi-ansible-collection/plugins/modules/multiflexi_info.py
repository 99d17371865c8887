#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: multiflexi_info
short_description: Versions, database schema and counts of a MultiFlexi installation
version_added: 0.1.0
description:
  - Reads the installation's status (versions of its components, the database schema's
    revision, jobs by state, queue depths, live workers) and counts its objects.
  - The status needs a global administrator; other users get the counts of what they may see,
    and V(null) for the status.
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
  - multiflexi.multiflexi.attributes.info
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: What runs there
  multiflexi.multiflexi.multiflexi_info:
  register: mf

- name: Refuse a schema the playbook does not know
  ansible.builtin.assert:
    that: mf.schema_state == "current"
"""

RETURN = r"""
versions:
  description: Each component's installed version (null when not installed there).
  returned: for a global administrator
  type: dict
  sample: {"multiflexi-core": "0.9.0", "multiflexi-server": "0.9.0"}
schema_revision:
  description: The database schema's revision.
  returned: for a global administrator
  type: str
schema_state:
  description: Whether the schema is the one the server knows (V(current)), older or newer.
  returned: for a global administrator
  type: str
jobs:
  description: Jobs by state.
  returned: for a global administrator
  type: dict
status:
  description: The whole status document of C(GET /api/v1/status), or null when the caller may not read it.
  returned: always
  type: dict
counts:
  description: How many companies, applications, run templates, credentials and users the caller may see.
  returned: always
  type: dict
  sample: {"companies": 2, "applications": 14, "run_templates": 5, "credentials": 3, "users": 4}
user:
  description: The account the module signed in as, with its roles by company id.
  returned: always
  type: dict
"""

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    MultiFlexiModule,
)

COUNTED = (
    ("companies", "/companies"),
    ("applications", "/applications"),
    ("run_templates", "/run-templates"),
    ("credentials", "/credentials"),
    ("users", "/users"),
)


def main():
    module = MultiFlexiModule(argument_spec={}, supports_check_mode=True)
    user = module.call("GET", "/me")
    status = None
    if user.get("is_admin"):
        status = module.call("GET", "/status")
    counts = {}
    for name, collection in COUNTED:
        page = module.call("GET", collection, query={"limit": 1}, accept=(200, 403))
        counts[name] = page.get("total") if isinstance(page, dict) and "total" in page else None
    status = status or {}
    module.exit_json(
        changed=False,
        status=status or None,
        versions=status.get("versions"),
        schema_revision=status.get("schema_revision"),
        schema_state=status.get("schema_state"),
        jobs=status.get("jobs"),
        counts=counts,
        user=user,
    )


if __name__ == "__main__":
    main()
