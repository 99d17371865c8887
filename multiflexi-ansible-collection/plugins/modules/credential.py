#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: credential
short_description: Create, change or delete a MultiFlexi credential and its values
version_added: 0.1.0
description:
  - Makes a credential of a company (a named set of values of a credential type, such as an
    API login) present with the given values, or absent.
  - The credential is found by O(id), or else by its O(name) within its O(company).
  - Every value is write-only; the server stores it encrypted and shows it as C(***). So the
    module cannot tell whether a value it is given differs from the stored one;
    O(update_secrets) decides what happens then.
  - A credential that run templates use cannot be deleted; the task fails naming them.
options:
  id:
    description: The credential's id. Without it, O(company) and O(name) find the credential.
    type: int
    aliases: [credential_id]
  name:
    description:
      - The credential's name, unique within its company; its natural key.
      - With O(id), a different name renames the credential.
    type: str
  company:
    description:
      - The company the credential belongs to, by id or by slug.
      - Needed to find the credential by name, and to create it.
    type: str
    aliases: [company_id]
  credential_type:
    description:
      - The credential's type, by id or by its name within the company. Needed to create it.
      - A credential's type cannot be changed; a different one fails the task.
    type: str
    aliases: [credential_type_id]
  values:
    description:
      - Values of the type's fields, by field keyword (compared key by key; fields not given
        are left alone).
      - Every value is secret (never logged, never shown, C(***) in the diff).
      - Creating a credential needs every required field of its type.
    type: dict
  update_secrets:
    description:
      - V(always) sends every value of O(values) again on each run and reports the task
        changed, because a stored value cannot be read back to compare (as awx.awx does).
      - V(on_create) sends O(values) only when the credential is created, and afterwards only
        a value the credential does not have yet; a value it has is never re-sent, so a
        second run reports no change.
    type: str
    choices: [always, on_create]
    default: always
  state:
    description: Whether the credential should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
  - multiflexi.multiflexi.attributes
attributes:
  diff_mode:
    description: Shows before and after of each option that changes; values as C(***).
    support: full
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: The AbraFlexi login of ACME, values set once
  multiflexi.multiflexi.credential:
    company: acme
    name: AbraFlexi production
    credential_type: AbraFlexi
    values:
      ABRAFLEXI_URL: https://abraflexi.example.com
      ABRAFLEXI_LOGIN: api
      ABRAFLEXI_PASSWORD: "{{ vault_abraflexi_password }}"
    update_secrets: on_create

- name: Rotate the password (always sent, always reported changed)
  multiflexi.multiflexi.credential:
    company: acme
    name: AbraFlexi production
    values:
      ABRAFLEXI_PASSWORD: "{{ vault_new_password }}"
    update_secrets: always

- name: Gone (fails while run templates use it)
  multiflexi.multiflexi.credential:
    company: acme
    name: AbraFlexi production
    state: absent
"""

RETURN = r"""
credential:
  description:
    - The credential after the task (in check mode, as it would be); values as C(***).
  returned: when O(state=present)
  type: dict
  sample: {"id": 4, "company_id": 3, "credential_type_id": 2, "name": "AbraFlexi production",
           "values": {"ABRAFLEXI_LOGIN": "***", "ABRAFLEXI_PASSWORD": "***"}}
id:
  description: The credential's id (none in check mode for a credential that would be created).
  returned: when the credential exists
  type: int
"""

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    MultiFlexiModule,
)
from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    Outcome,
    UPDATE_SECRETS_SPEC,
    ensure_absent,
    ensure_present,
    find,
    resolve,
)


def credential_type_id(module, company_id, ref):
    ref = str(ref).strip()
    if ref.isdigit():
        found = find(module, "/credential-types", "credential type", int(ref))
    else:
        found = find(
            module,
            "/credential-types",
            "credential type",
            query={"company_id": company_id},
            match={"name": ref},
        )
    if found is None:
        module.fail_json(msg=f"credential type {ref} not found in company {company_id}")
    return found["id"]


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            id=dict(type="int", aliases=["credential_id"]),
            name=dict(type="str"),
            company=dict(type="str", aliases=["company_id"]),
            credential_type=dict(type="str", aliases=["credential_type_id"]),
            values=dict(type="dict", no_log=True),
            update_secrets=UPDATE_SECRETS_SPEC,
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_one_of=[("id", "name")],
        supports_check_mode=True,
    )
    params = module.params
    outcome = Outcome(module, "credential")
    company_id = None
    if params["company"] is not None:
        company_id = resolve(module, "/companies", "company", params["company"], ("slug",))["id"]
    if params["id"] is None and company_id is None:
        module.fail_json(msg="give the credential's id, or its company and name")
    if params["id"] is not None:
        current = find(module, "/credentials", "credential", params["id"])
    else:
        current = find(
            module,
            "/credentials",
            "credential",
            query={"company_id": company_id},
            match={"name": params["name"]},
        )
    if params["state"] == "absent":
        ensure_absent(module, outcome, current, "/credentials")
        outcome.exit()
    values = params["values"]
    secrets = set("values." + key for key in values or {})
    if current is None:
        if params["id"] is not None:
            module.fail_json(
                msg="credential {} not found: create it by company and name, without an id".format(
                    params["id"]
                )
            )
        if params["credential_type"] is None:
            module.fail_json(
                msg="credential {} not found: give its credential_type to create it".format(
                    params["name"]
                )
            )
        type_id = credential_type_id(module, company_id, params["credential_type"])
        credential = ensure_present(
            module,
            outcome,
            None,
            dict(name=params["name"], values=values or {}),
            "/credentials",
            create_extra=dict(company_id=company_id, credential_type_id=type_id),
            secrets=secrets,
        )
        outcome.exit(credential=credential, id=credential.get("id"))
    if company_id is not None and company_id != current["company_id"]:
        module.fail_json(
            msg="credential {} belongs to company {}, not {}: a credential cannot move".format(
                current["id"], current["company_id"], company_id
            )
        )
    if params["credential_type"] is not None:
        type_id = credential_type_id(module, current["company_id"], params["credential_type"])
        if type_id != current["credential_type_id"]:
            module.fail_json(
                msg="credential {} has type {}, not {}: a credential's type cannot change".format(
                    current["id"], current["credential_type_id"], type_id
                )
            )
    desired = dict(name=params["name"], values=values)
    credential = ensure_present(
        module,
        outcome,
        current,
        desired,
        "/credentials",
        secrets=secrets,
        update_secrets=params["update_secrets"],
    )
    outcome.exit(credential=credential, id=credential.get("id"))


if __name__ == "__main__":
    main()
