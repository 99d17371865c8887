#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: application_info
short_description: Read MultiFlexi applications
version_added: 0.1.0
description:
  - Lists the applications, or those with the given id, uuid, name or tag, with their
    configuration fields and exit codes.
  - The default value of a secret field is never shown (C(***)).
  - Replaces the original collection's C(application) module with C(state=get).
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
  - multiflexi.multiflexi.attributes.info
options:
  id:
    description: The application with this id.
    type: int
    aliases: [app_id]
  uuid:
    description: The application with this uuid.
    type: str
  name:
    description: The application called exactly this.
    type: str
  tag:
    description: The applications with this tag (compared without regard to case).
    type: str
  enabled:
    description: Only the enabled (V(true)) or the disabled (V(false)) applications.
    type: bool
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: The applications tagged Bank
  multiflexi.multiflexi.application_info:
    tag: Bank
  register: found

- name: Their names
  ansible.builtin.debug:
    msg: "{{ found.applications | map(attribute='name') }}"
"""

RETURN = r"""
applications:
  description: The applications found, by id (empty when none matches); secret defaults as C(***).
  returned: always
  type: list
  elements: dict
  sample: [{"id": 5, "uuid": "97f30cf9-2d9e-4d91-ad65-9bdd8b4d8f95", "name": "Bank statements",
            "version": "1.2", "enabled": true, "tags": ["Bank"],
            "fields": [{"name": "FIO_TOKEN", "type": "password", "secret": true,
                        "default_value": "***", "required": true}]}]
"""

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    MultiFlexiModule,
)


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            id=dict(type="int", aliases=["app_id"]),
            uuid=dict(type="str"),
            name=dict(type="str"),
            tag=dict(type="str"),
            enabled=dict(type="bool"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["id"] is not None:
        found = module.call("GET", "/applications/{}".format(params["id"]), accept=(200, 404))
        applications = [found] if isinstance(found, dict) and "id" in found else []
    else:
        query = dict((k, params[k]) for k in ("uuid", "name"))
        if params["enabled"] is not None:
            query["enabled"] = "true" if params["enabled"] else "false"
        applications = module.items("/applications", query=query)
    if params["enabled"] is not None:
        applications = [a for a in applications if a.get("enabled") == params["enabled"]]
    if params["tag"] is not None:
        tag = params["tag"].strip().lower()
        applications = [
            a for a in applications if tag in (str(t).lower() for t in a.get("tags") or [])
        ]
    module.exit_json(changed=False, applications=sorted(applications, key=lambda a: a["id"]))


if __name__ == "__main__":
    main()
