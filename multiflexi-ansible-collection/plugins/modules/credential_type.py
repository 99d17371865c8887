#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: credential_type
short_description: Create or delete a MultiFlexi credential type
version_added: 0.1.0
description:
  - Makes a credential type of a company (the kind of a credential - its fields - usually
    made from a credential prototype) present, or absent.
  - The type is found by O(id), or else by its O(name) within its O(company).
  - The API cannot change a credential type once it exists. When an existing type's
    prototype, fields or setting names differ from the task's, the task fails saying what
    differs; it never deletes and re-creates the type by itself (delete it with
    O(state=absent), which the server refuses while credentials of the type exist).
  - The original collection's verb states (C(list), C(import), C(export), C(validate),
    C(remove-json)) are not provided; credential prototypes are imported by the
    M(multiflexi.multiflexi.credential_prototype) module.
options:
  id:
    description: The type's id. Without it, O(company) and O(name) find the type.
    type: int
    aliases: [credential_type_id]
  name:
    description: The type's name within its company, its natural key. Needed to create it.
    type: str
  company:
    description: The company the type belongs to, by id or by slug. Needed to find it by name.
    type: str
    aliases: [company_id]
  prototype:
    description:
      - The credential prototype the type is made from, by id, code or uuid.
      - The original collection's O(class_name) names the same thing.
    type: str
    aliases: [prototype_id, class_name]
  fields:
    description:
      - The type's own fields (with O(prototype), they add to or override the prototype's).
      - Compared field by field by keyword, only on the attributes given; the default of a
        secret field is never shown, so it is not compared.
      - Without O(prototype), the list is all of the type's fields.
    type: list
    elements: dict
    suboptions:
      keyword:
        description: The environment variable the field sets.
        type: str
        required: true
      type:
        description: The field's type (V(string) when created without it).
        type: str
      description:
        description: What the field is.
        type: str
      default:
        description: The field's default value.
        type: str
      required:
        description: Whether a credential of the type needs the field.
        type: bool
      secret:
        description:
          - Whether the field's value is secret. A field named like a password is secret
            whatever this says.
        type: bool
  settings:
    description:
      - Settings of the type (stored encrypted). Only sent when the type is created; their
        values are never shown, so only their names are compared.
    type: dict
  state:
    description: Whether the type should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
  - multiflexi.multiflexi.attributes
attributes:
  diff_mode:
    description: Shows the type that would be created or deleted.
    support: full
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: ACME's AbraFlexi logins, from the prototype
  multiflexi.multiflexi.credential_type:
    company: acme
    name: AbraFlexi
    prototype: abraflexi

- name: A type of its own
  multiflexi.multiflexi.credential_type:
    company: acme
    name: API login
    fields:
      - keyword: API_USER
        required: true
      - keyword: API_PASSWORD
        secret: true

- name: Gone (refused while credentials of the type exist)
  multiflexi.multiflexi.credential_type:
    company: acme
    name: API login
    state: absent
"""

RETURN = r"""
credential_type:
  description:
    - The type after the task (in check mode, as it would be); secret defaults and setting
      values as C(***).
  returned: when O(state=present)
  type: dict
  sample: {"id": 2, "company_id": 3, "name": "API login", "prototype_id": null,
           "fields": [{"keyword": "API_USER", "type": "string", "required": true,
                       "secret": false, "default": null, "description": null}]}
id:
  description: The type's id (none in check mode for a type that would be created).
  returned: when the type exists
  type: int
"""

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    REDACTED,
    MultiFlexiModule,
)
from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    Outcome,
    ensure_absent,
    find,
    redacted,
    resolve,
    same,
)

FIELD_KEYS = ("type", "description", "default", "required", "secret")


def find_prototype(module, ref):
    """A credential prototype by id, or else by code or uuid (the list has no filter)."""
    text = str(ref).strip()
    if text.isdigit():
        found = find(module, "/credential-prototypes", "credential prototype", int(text))
    else:
        found = find(module, "/credential-prototypes", "credential prototype", match={"code": text})
        if found is None:
            found = find(
                module, "/credential-prototypes", "credential prototype", match={"uuid": text}
            )
    if found is None:
        module.fail_json(msg=f"credential prototype {text} not found (give its id, code or uuid)")
    return found


def field_differences(current, wanted, inherited):
    """Why the type's ``current`` fields are not the ``wanted`` ones: a list of sentences.

    ``inherited`` are the keywords of the prototype's fields, which the type shows too.
    """
    have = dict((f["keyword"], f) for f in current)
    found = []
    for field in wanted:
        keyword = field["keyword"]
        if keyword not in have:
            found.append(f"field {keyword} is missing")
            continue
        for key in FIELD_KEYS:
            want, shown = field.get(key), have[keyword].get(key)
            if want is None or (key == "default" and shown == REDACTED):
                continue
            if not same(shown, want):
                found.append(f"field {keyword}: {key} is {shown!r}, not {want!r}")
    wanted_keywords = set(f["keyword"] for f in wanted)
    for keyword in have:
        if keyword not in wanted_keywords and keyword not in inherited:
            found.append(f"field {keyword} is not in the task's fields")
    return found


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            id=dict(type="int", aliases=["credential_type_id"]),
            name=dict(type="str"),
            company=dict(type="str", aliases=["company_id"]),
            prototype=dict(type="str", aliases=["prototype_id", "class_name"]),
            fields=dict(
                type="list",
                elements="dict",
                options=dict(
                    keyword=dict(type="str", required=True, no_log=False),
                    type=dict(type="str"),
                    description=dict(type="str"),
                    default=dict(type="str"),
                    required=dict(type="bool"),
                    secret=dict(type="bool"),
                ),
            ),
            settings=dict(type="dict", no_log=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        required_one_of=[("id", "name")],
        supports_check_mode=True,
    )
    params = module.params
    outcome = Outcome(module, "credential type")
    company_id = None
    if params["company"] is not None:
        company_id = resolve(module, "/companies", "company", params["company"], ("slug",))["id"]
    if params["id"] is not None:
        current = find(module, "/credential-types", "credential type", params["id"])
    elif company_id is None:
        module.fail_json(msg="give the credential type's id, or its company and name")
    else:
        current = find(
            module,
            "/credential-types",
            "credential type",
            query={"company_id": company_id},
            match={"name": params["name"]},
        )
    if params["state"] == "absent":
        ensure_absent(module, outcome, current, "/credential-types")
        outcome.exit()

    prototype = find_prototype(module, params["prototype"]) if params["prototype"] else None
    fields = [
        dict((k, v) for k, v in field.items() if v is not None) for field in params["fields"] or []
    ]
    settings = params["settings"]
    if current is None:
        if params["id"] is not None:
            module.fail_json(
                msg="credential type {} not found: create it by company and name, without an id".format(
                    params["id"]
                )
            )
        if prototype is None and not fields:
            module.fail_json(
                msg="credential type {} not found: give its prototype or fields to create it".format(
                    params["name"]
                )
            )
        body = dict(company_id=company_id, name=params["name"], fields=fields)
        if prototype is not None:
            body["prototype_id"] = prototype["id"]
        if settings:
            body["settings"] = settings
        shown = redacted(body, set("settings." + k for k in settings or {}))
        outcome.created(shown)
        answer = outcome.write("POST", "/credential-types", data=body)
        ctype = answer if answer is not None else shown
        outcome.exit(credential_type=ctype, id=ctype.get("id"))

    problems = []
    if company_id is not None and company_id != current["company_id"]:
        problems.append("it belongs to company {}, not {}".format(current["company_id"], company_id))
    if params["name"] is not None and params["name"] != current["name"]:
        problems.append("its name is {!r}, not {!r}".format(current["name"], params["name"]))
    if prototype is not None and prototype["id"] != current.get("prototype_id"):
        problems.append(
            "its prototype is {}, not {}".format(current.get("prototype_id"), prototype["id"])
        )
    if params["fields"] is not None:
        inherited = set()
        if current.get("prototype_id") is not None:
            stored = find(
                module, "/credential-prototypes", "credential prototype", current["prototype_id"]
            )
            inherited = set(f["keyword"] for f in (stored or {}).get("fields", []))
        problems.extend(field_differences(current.get("fields") or [], fields, inherited))
    if settings is not None and set(settings) != set(current.get("settings") or {}):
        problems.append(
            "its settings are {}, not {}".format(
                sorted(current.get("settings") or {}), sorted(settings)
            )
        )
    if problems:
        module.fail_json(
            msg="credential type {} ({}) differs and the API cannot change a credential type: {}. "
            "Delete it (state=absent, once no credential uses it) and create it again.".format(
                current["id"], current["name"], "; ".join(problems)
            ),
            differences=problems,
        )
    outcome.exit(credential_type=current, id=current["id"])


if __name__ == "__main__":
    main()
