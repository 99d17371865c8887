#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: company_info
short_description: Read MultiFlexi companies
version_added: 0.1.0
description:
  - Lists the companies the caller may see, or those with the given id, slug, name or IC.
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
  - multiflexi.multiflexi.attributes.info
options:
  id:
    description: The company with this id.
    type: int
    aliases: [company_id]
  slug:
    description: The company with this slug.
    type: str
    aliases: [code]
  name:
    description: The companies called exactly this.
    type: str
  ic:
    description: The companies with this registration number.
    type: str
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: One company
  multiflexi.multiflexi.company_info:
    slug: acme
  register: found

- name: Its id
  ansible.builtin.debug:
    msg: "{{ found.companies[0].id }}"
"""

RETURN = r"""
companies:
  description: The companies found, by id (empty when none matches).
  returned: always
  type: list
  elements: dict
  sample: [{"id": 3, "name": "ACME s.r.o.", "slug": "acme", "ic": "12345678", "enabled": true}]
"""

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    MultiFlexiModule,
)


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            id=dict(type="int", aliases=["company_id"]),
            slug=dict(type="str", aliases=["code"]),
            name=dict(type="str"),
            ic=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["id"] is not None:
        found = module.call("GET", "/companies/%d" % params["id"], accept=(200, 404))
        companies = [found] if isinstance(found, dict) and "id" in found else []
    else:
        query = dict((k, params[k]) for k in ("slug", "name", "ic"))
        companies = module.items("/companies", query=query)
    module.exit_json(changed=False, companies=companies)


if __name__ == "__main__":
    main()
