#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: credential_prototype
short_description: Import a MultiFlexi credential prototype
version_added: 0.1.0
description:
  - Makes a credential prototype (a global kind of credential - its fields - that companies
    make their credential types from) present, from its C(*.credprototype.json) document.
  - The server previews the import first; the document is imported only when it would
    create the prototype or change it. The server matches it by uuid, then by code.
  - Without a document, the task only checks that the prototype (by O(id), O(uuid) or
    O(code)) exists and returns it.
  - The API cannot delete a credential prototype, so there is no O(state=absent).
  - Importing needs a global administrator.
  - The original collection's module C(crprototype) becomes this one; its O(prototype_id)
    and O(file) are aliases; its other options (name, description, version, logo, url) are
    keys of the document.
options:
  id:
    description: The prototype's id.
    type: int
    aliases: [prototype_id]
  uuid:
    description: The prototype's uuid.
    type: str
  code:
    description: The prototype's code.
    type: str
  file:
    description: A path to the prototype document (JSON) on the controller.
    type: path
    aliases: [document_file]
  content:
    description: The prototype document itself (for example C("{{ lookup('file', 'x.json') }}")).
    type: dict
    aliases: [document]
  state:
    description: Only V(present) (the API cannot delete a prototype).
    type: str
    choices: [present]
    default: present
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
attributes:
  check_mode:
    description: Nothing is written; the server previews the import, and the task says what would change.
    support: full
  diff_mode:
    description: Shows the top-level keys of the document that change (fields by keyword).
    support: full
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: The AbraFlexi prototype
  multiflexi.multiflexi.credential_prototype:
    file: files/abraflexi.credprototype.json

- name: Inline
  multiflexi.multiflexi.credential_prototype:
    content:
      uuid: 4a0f4c2e-0d3b-4f0e-9a4b-0f9f2c0d1e21
      code: probe_api
      name: Probe API
      version: "1.0"
      fields:
        - keyword: PROBE_URL
          type: url
        - keyword: PROBE_TOKEN
          type: password
"""

RETURN = r"""
prototype:
  description: The prototype after the task (in check mode, the document as it would be stored).
  returned: always
  type: dict
  sample: {"id": 1, "uuid": "4a0f4c2e-0d3b-4f0e-9a4b-0f9f2c0d1e21", "code": "probe_api",
           "name": "Probe API", "version": "1.0", "fields": []}
id:
  description: The prototype's id (none in check mode for a prototype that would be created).
  returned: when the prototype exists
  type: int
warnings_of_import:
  description: What the server noted while reading the document (old spellings it converted).
  returned: when a document is given
  type: list
  elements: str
"""

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    MultiFlexiModule,
)
from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    Outcome,
    find,
    read_document,
)

COLLECTION = "/credential-prototypes"
NOUN = "credential prototype"
#: document keys that say which format it is, not what the prototype is
FORMAT_KEYS = ("$schema",)


def find_prototype(module, params, document):
    """The stored prototype the options (else the document's uuid, then code) name."""
    if params["id"] is not None:
        return find(module, COLLECTION, NOUN, params["id"])
    document = document or {}
    for key in ("uuid", "code"):
        value = params[key] or document.get(key)
        if value:
            found = find(module, COLLECTION, NOUN, match={key: value})
            if found is not None or params[key]:
                return found
    return None


def fields_changed(have, want):
    """Fields as ``keyword: state`` maps (no default value is ever shown)."""
    have = dict((f.get("keyword"), f) for f in have or [])
    want = dict((f.get("keyword"), f) for f in want or [])
    before, after = {}, {}
    for keyword in sorted(set(have) | set(want), key=str):
        if keyword not in want:
            before[keyword], after[keyword] = "present", "removed"
        elif keyword not in have:
            before[keyword], after[keyword] = "absent", "added"
        elif have[keyword] != want[keyword]:
            before[keyword], after[keyword] = "present", "changed"
    return before, after


def document_changes(stored, document):
    """Top-level document keys that differ: ``{key: (before, after)}``; fields by keyword."""
    changes = {}
    for key in sorted(set(stored) | set(document)):
        if key in FORMAT_KEYS:
            continue
        have, want = stored.get(key), document.get(key)
        if key == "fields":
            have, want = fields_changed(have, want)
            if have == want and stored.get(key) != document.get(key):
                have, want = "in another order", "reordered"
        if have != want:
            changes[key] = (have, want)
    return changes


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            id=dict(type="int", aliases=["prototype_id"]),
            uuid=dict(type="str"),
            code=dict(type="str"),
            file=dict(type="path", aliases=["document_file"]),
            content=dict(type="dict", aliases=["document"]),
            state=dict(type="str", default="present", choices=["present"]),
        ),
        mutually_exclusive=[("file", "content")],
        required_one_of=[("id", "uuid", "code", "file", "content")],
        supports_check_mode=True,
    )
    params = module.params
    outcome = Outcome(module, NOUN)
    document = read_document(module, "content", "file", "credential prototype document")
    current = find_prototype(module, params, document)
    if document is None:
        if current is None:
            what = params["id"] or params["uuid"] or params["code"]
            module.fail_json(msg=f"{NOUN} {what} not found: give its document (file) to import it")
        outcome.exit(prototype=current, id=current["id"])

    preview = module.call("POST", COLLECTION + "/preview", data=document)
    result = dict(warnings_of_import=preview.get("warnings", []))
    if (params["id"] is not None or params["uuid"] or params["code"]) and (
        current is None or preview.get("prototype_id") != current["id"]
    ):
        module.fail_json(
            msg="the document is credential prototype {}, not the one the options name ({})".format(
                preview.get("prototype_id") or "(new)",
                current["id"] if current else "not found",
            )
        )
    prototype = current
    if preview.get("changed"):
        shown = preview.get("prototype") or document
        if preview.get("created"):
            outcome.created(dict((k, shown.get(k)) for k in ("uuid", "code", "name", "version")))
        else:
            stored = module.call("GET", "{}/{}/document".format(COLLECTION, preview["prototype_id"]))
            changes = document_changes(stored or {}, shown)
            outcome.record(changes or {"document": ("stored", "differs")})
        answer = outcome.write("POST", COLLECTION, data=document)
        if answer is not None:
            prototype = answer["prototype"]
        else:
            prototype = dict(shown, id=preview.get("prototype_id"))
    outcome.exit(prototype=prototype, id=prototype.get("id"), **result)


if __name__ == "__main__":
    main()
