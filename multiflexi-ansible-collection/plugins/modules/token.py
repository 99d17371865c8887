#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: token
short_description: Create or revoke a MultiFlexi API token
version_added: 0.1.0
description:
  - Makes an API token with a name present for the caller (or for another user, which needs a
    global administrator), or revokes it.
  - The server shows a token's value once, when it creates it. So the value is returned only
    by the run that creates the token (keep it with C(register), and set C(no_log) on the task
    so that it is not printed or logged); a later run finds the token by its name, reports no
    change and returns no value.
  - Only active tokens count (not revoked, not expired); when the one with the name has
    expired, a new one is created.
options:
  name:
    description: The token's name, its natural key among the user's active tokens.
    type: str
  id:
    description: The token's id (to revoke a token by id).
    type: int
    aliases: [token_id]
  user:
    description: The user whose token it is, by id or by login; default the caller.
    type: str
    aliases: [user_id]
  expires_in:
    description:
      - The new token's lifetime in seconds (at most ten years); default no expiry.
      - Used only when the token is created (a token cannot be changed).
    type: int
  expires_at:
    description:
      - The new token's expiry time (ISO 8601, with a time zone offset).
      - Used only when the token is created.
    type: str
  state:
    description: V(present) creates the token unless an active one has the name; V(absent) revokes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
attributes:
  check_mode:
    description: Nothing is written; the task says what would change (and returns no value).
    support: full
  diff_mode:
    description: Shows the token created or revoked (never its value).
    support: full
author:
  - MultiFlexi (Python) developers (@multiflexi)
notes:
  - The original collection's C(token_value) option has no counterpart; the server makes the
    value.
"""

EXAMPLES = r"""
- name: A token for the deploy pipeline (its value only on the run that creates it)
  multiflexi.multiflexi.token:
    name: deploy
    expires_in: 2592000
  register: deploy_token
  no_log: true

- name: Keep it in the vault
  ansible.builtin.copy:
    content: "{{ deploy_token.token }}"
    dest: /etc/deploy/multiflexi-token
    mode: "0600"
  when: deploy_token.token is defined
  no_log: true

- name: Revoke it
  multiflexi.multiflexi.token:
    name: deploy
    state: absent
"""

RETURN = r"""
token:
  description:
    - The token's value, to send as C(Authorization Bearer). Returned once, by the run that
      creates the token; it cannot be read again. Set C(no_log) on the task.
  returned: when the task created the token (not in check mode)
  type: str
api_token:
  description: The token's record (never its value); for O(state=absent), the tokens revoked.
  returned: when O(state=present)
  type: dict
  sample: {"id": 7, "user_id": 1, "name": "deploy", "prefix": "mf_3kq9", "expires_at": null}
id:
  description: The token's id (none in check mode for a token that would be created).
  returned: when O(state=present) and the token exists
  type: int
revoked:
  description: The ids of the tokens revoked.
  returned: when O(state=absent)
  type: list
  elements: int
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
            name=dict(type="str"),
            id=dict(type="int", aliases=["token_id"]),
            user=dict(type="str", aliases=["user_id"]),
            expires_in=dict(type="int"),
            expires_at=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_one_of=[("name", "id")],
        mutually_exclusive=[("expires_in", "expires_at")],
        required_if=[("state", "present", ("name",))],
        supports_check_mode=True,
    )
    params = module.params
    outcome = Outcome(module, "token")
    user_id = None
    if params["user"] is not None:
        user_id = resolve(module, "/users", "user", params["user"], ("login",))["id"]
    if params["id"] is not None:
        found = find(module, "/tokens", "token", params["id"])
        active = [found] if found and not found.get("revoked_at") else []
    else:
        active = [
            t
            for t in module.items("/tokens", query={"user_id": user_id, "active": True})
            if t.get("name") == params["name"]
        ]
    if params["state"] == "absent":
        for token in active:
            outcome.write("DELETE", "/tokens/{}".format(token["id"]))
        if active:
            outcome.removed({"tokens": [t["id"] for t in active], "name": active[0]["name"]})
        outcome.exit(revoked=[t["id"] for t in active])
    if params["id"] is not None and not active:
        module.fail_json(
            msg="token {} not found or revoked: create tokens by name".format(params["id"])
        )
    if len(active) > 1:
        module.fail_json(
            msg="more than one active token is called {}: give its id (one of {})".format(
                params["name"], ", ".join(str(t["id"]) for t in active)
            )
        )
    if active:
        outcome.exit(api_token=active[0], id=active[0]["id"])
    body = dict(
        (key, params[key])
        for key in ("name", "expires_in", "expires_at")
        if params[key] is not None
    )
    if user_id is not None:
        body["user_id"] = user_id
    outcome.created(body)
    answer = outcome.write("POST", "/tokens", data=body)
    if answer is None:
        outcome.exit(api_token=body, id=None)
    value = answer.pop("token")
    outcome.exit(token=value, api_token=answer, id=answer["id"])


if __name__ == "__main__":
    main()
