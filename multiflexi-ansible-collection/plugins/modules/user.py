#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: user
short_description: Create, change or delete a MultiFlexi user account
version_added: 0.1.0
description:
  - Makes a user account present with the given options, or absent (with its tokens and
    company roles).
  - The user is found by O(id), or else by its O(login).
  - Only the options a task gives are compared and changed. A user's login cannot change.
  - The password is write-only; O(update_password) decides when it is sent.
  - Creating, deleting, enabling, disabling and promoting users needs a global administrator;
    the last enabled administrator cannot be disabled, demoted or deleted.
options:
  id:
    description: The user's id. Without it, O(login) finds the user.
    type: int
    aliases: [user_id]
  login:
    description: The user's login (letters, digits and C(. _ @ -)), its natural key. Needed to create it.
    type: str
  email:
    description: The user's e-mail address (V("") for none).
    type: str
  first_name:
    description: The user's first name.
    type: str
    aliases: [firstname]
  last_name:
    description: The user's last name.
    type: str
    aliases: [lastname]
  enabled:
    description: Whether the user may sign in and use tokens.
    type: bool
  is_admin:
    description: Whether the user is a global administrator.
    type: bool
  password:
    description:
      - The user's password (never logged, shown as C(***) in the diff).
      - A user created without one can only use API tokens.
    type: str
  update_password:
    description:
      - V(on_create) sets O(password) only when the user is created, as
        M(ansible.builtin.user) does; a second run reports no change.
      - V(always) sets it on every run and reports the task changed (the stored password
        cannot be read back to compare).
    type: str
    choices: [always, on_create]
    default: on_create
  state:
    description: Whether the user should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
  - multiflexi.multiflexi.attributes
attributes:
  diff_mode:
    description: Shows before and after of each option that changes; the password as C(***).
    support: full
author:
  - MultiFlexi (Python) developers (@multiflexi)
notes:
  - The original collection's C(settings) option has no counterpart; the API has no user
    settings or language.
"""

EXAMPLES = r"""
- name: An operator account
  multiflexi.multiflexi.user:
    login: jane
    email: jane@acme.example
    first_name: Jane
    last_name: Doe
    password: "{{ vault_jane_password }}"

- name: Reset her password
  multiflexi.multiflexi.user:
    login: jane
    password: "{{ vault_jane_new_password }}"
    update_password: always

- name: Disabled
  multiflexi.multiflexi.user:
    login: jane
    enabled: false

- name: Gone, with her tokens and roles
  multiflexi.multiflexi.user:
    login: jane
    state: absent
"""

RETURN = r"""
user:
  description: The user after the task (in check mode, as it would be); never the password.
  returned: when O(state=present)
  type: dict
  sample: {"id": 5, "login": "jane", "email": "jane@acme.example", "first_name": "Jane",
           "last_name": "Doe", "enabled": true, "is_admin": false}
id:
  description: The user's id (none in check mode for a user that would be created).
  returned: when the user exists
  type: int
"""

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    REDACTED,
    MultiFlexiModule,
)
from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    NEW_SECRET,
    Outcome,
    ensure_absent,
    ensure_present,
    find,
)

FIELDS = ("email", "first_name", "last_name", "enabled", "is_admin")


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            id=dict(type="int", aliases=["user_id"]),
            login=dict(type="str"),
            email=dict(type="str"),
            first_name=dict(type="str", aliases=["firstname"]),
            last_name=dict(type="str", aliases=["lastname"]),
            enabled=dict(type="bool"),
            is_admin=dict(type="bool"),
            password=dict(type="str", no_log=True),
            update_password=dict(type="str", default="on_create", choices=["always", "on_create"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_one_of=[("id", "login")],
        supports_check_mode=True,
    )
    params = module.params
    outcome = Outcome(module, "user")
    current = find(module, "/users", "user", params["id"], {"login": params["login"]})
    if params["state"] == "absent":
        ensure_absent(module, outcome, current, "/users")
        outcome.exit()
    desired = dict((key, params[key]) for key in FIELDS)
    if current is None:
        if params["id"] is not None:
            module.fail_json(
                msg="user {} not found: create it by login, without an id".format(params["id"])
            )
        desired.update(login=params["login"], password=params["password"])
        user = ensure_present(module, outcome, None, desired, "/users", secrets={"password"})
        user.pop("password", None)
        outcome.exit(user=user, id=user.get("id"))
    if params["login"] is not None and params["login"] != current["login"]:
        module.fail_json(
            msg="user {} has the login {}: a login cannot change".format(
                current["id"], current["login"]
            )
        )
    user = ensure_present(module, outcome, current, desired, "/users")
    resend = params["update_password"] in ("always",)
    if params["password"] is not None and resend:
        outcome.record({"password": (REDACTED, NEW_SECRET)})
        outcome.write(
            "PUT", "/users/{}/password".format(current["id"]), data={"password": params["password"]}
        )
    outcome.exit(user=user, id=user.get("id"))


if __name__ == "__main__":
    main()
