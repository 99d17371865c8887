#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: company_env
short_description: Set or remove an environment variable of a MultiFlexi company
version_added: 0.1.0
description:
  - Makes one environment variable of a company (passed to every job of the company) present
    with the given value, or absent.
  - The variable is found by its O(name) within its O(company).
  - The value of a secret variable is stored encrypted and shown as C(***), so the module cannot
    tell whether the value it is given differs from the stored one; O(update_secrets) decides
    what happens then.
  - Changing a company's environment needs the company's admin role.
options:
  company:
    description: The company, by id or by slug.
    type: str
    required: true
    aliases: [company_id]
  name:
    description: The variable's name (letters, digits and C(_), not starting with a digit).
    type: str
    required: true
  value:
    description:
      - The variable's value. Needed to create the variable, and to make a secret variable
        public again.
      - Never logged; shown in the result only for a variable that is not secret.
    type: str
  secret:
    description:
      - Whether the value is secret (stored encrypted, shown as C(***)).
      - When not given, a new variable is not secret and an existing one keeps its kind.
    type: bool
  update_secrets:
    description:
      - For a secret variable, V(always) sends O(value) again on each run and reports the task
        changed, because the stored value cannot be read back to compare.
      - V(on_create) sends it only when the variable is created (or changes kind).
    type: str
    choices: [always, on_create]
    default: always
  state:
    description: Whether the variable should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
  - multiflexi.multiflexi.attributes
attributes:
  diff_mode:
    description: Shows before and after of the value and the secret flag; secret values as C(***).
    support: full
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: Where ACME's jobs find AbraFlexi
  multiflexi.multiflexi.company_env:
    company: acme
    name: ABRAFLEXI_URL
    value: https://abraflexi.example.com

- name: A secret, set once (a second run reports no change)
  multiflexi.multiflexi.company_env:
    company: acme
    name: ABRAFLEXI_PASSWORD
    value: "{{ vault_abraflexi_password }}"
    secret: true
    update_secrets: on_create

- name: Gone
  multiflexi.multiflexi.company_env:
    company: acme
    name: ABRAFLEXI_URL
    state: absent
"""

RETURN = r"""
variable:
  description:
    - The variable after the task (in check mode, as it would be); a secret value as C(***).
  returned: when O(state=present)
  type: dict
  sample: {"name": "ABRAFLEXI_URL", "secret": false, "value": "https://abraflexi.example.com"}
company_id:
  description: The company's id.
  returned: always
  type: int
"""

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    REDACTED,
    MultiFlexiModule,
)
from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    NEW_SECRET,
    Outcome,
    UPDATE_SECRETS_SPEC,
    resolve,
)


def variable_changes(current, value, secret, update_secrets):
    """``{key: (before, after)}`` of the variable's ``value`` and ``secret``; values redacted."""
    changes = {}
    if secret != current["secret"]:
        changes["secret"] = (current["secret"], secret)
    if value is None:
        return changes
    have = current["value"]
    if have == REDACTED:
        if update_secrets == "always" or changes:
            changes["value"] = (REDACTED, NEW_SECRET if secret else value)
    elif have != value or changes:
        changes["value"] = (have, NEW_SECRET if secret else value)
    return changes


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            company=dict(type="str", required=True, aliases=["company_id"]),
            name=dict(type="str", required=True),
            value=dict(type="str", no_log=True),
            secret=dict(type="bool"),
            update_secrets=UPDATE_SECRETS_SPEC,
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    name, value = params["name"], params["value"]
    outcome = Outcome(module, "variable")
    company = resolve(module, "/companies", "company", params["company"], ("slug",))
    collection = "/companies/{}/environment".format(company["id"])
    path = "{}/{}".format(collection, quote(name, safe=""))
    current = next((v for v in module.items(collection) if v["name"] == name), None)

    if params["state"] == "absent":
        if current is not None:
            outcome.removed(current)
            outcome.write("DELETE", path, accept=(200, 204, 404))
        outcome.exit(company_id=company["id"])

    secret = params["secret"]
    if secret is None:
        secret = current["secret"] if current is not None else False
    if not secret and value is not None:
        module.no_log_values.discard(value)  # a public value may be shown
    if current is None:
        if value is None:
            module.fail_json(msg=f"variable {name} not found: give its value to create it")
        after = dict(name=name, secret=secret, value=NEW_SECRET if secret else value)
        outcome.created(after)
        outcome.write("PUT", path, data=dict(value=value, secret=secret))
        outcome.exit(variable=dict(after, value=REDACTED if secret else value), company_id=company["id"])

    changes = variable_changes(current, value, secret, params["update_secrets"])
    if "value" not in changes and "secret" in changes:
        if current["value"] == REDACTED:
            module.fail_json(
                msg=f"variable {name} is secret: give its value to change whether it is secret"
            )
        value = current["value"]
        changes["value"] = (value, NEW_SECRET if secret else value)
    variable = current
    if changes:
        outcome.record(changes)
        answer = outcome.write("PUT", path, data=dict(value=value, secret=secret))
        variable = answer or dict(name=name, secret=secret, value=REDACTED if secret else value)
    outcome.exit(variable=variable, company_id=company["id"])


if __name__ == "__main__":
    main()
