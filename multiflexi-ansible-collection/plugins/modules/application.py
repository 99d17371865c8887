#!/usr/bin/python
# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r"""
module: application
short_description: Import, change or delete a MultiFlexi application
version_added: 0.1.0
description:
  - Makes an application present from its manifest (a C(*.multiflexi.app.json) document), or
    absent.
  - With a manifest, the server says whether importing it would create the application,
    change it (its stored manifest differs, read in the current format; the order of the
    environment fields does not count) or do nothing; the manifest is imported only in
    the first two cases. The application is matched by the manifest's uuid, then by its name.
  - Without a manifest, the application is found by O(id), O(uuid) or O(name), and only
    O(enabled) can be changed.
  - Importing, changing and deleting applications needs a global administrator.
options:
  id:
    description: The application's id.
    type: int
    aliases: [app_id]
  uuid:
    description: The application's uuid, its natural key (the manifest's, when one is given).
    type: str
  name:
    description: The application's name (unique).
    type: str
  manifest_file:
    description:
      - The path of the manifest on the controller (a JSON file).
      - Mutually exclusive with O(manifest).
    type: path
    aliases: [file, deffile]
  manifest:
    description:
      - The manifest itself, as a mapping or as JSON text (for example
        C("{{ lookup('file', 'app.json') }}")).
    type: dict
    aliases: [content]
  enabled:
    description: Whether run templates of the application may be scheduled.
    type: bool
  force:
    description:
      - With O(state=absent), also delete the run templates that use the application (the
        server refuses to delete an application in use otherwise).
    type: bool
    default: false
  state:
    description: Whether the application should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - multiflexi.multiflexi.auth
attributes:
  check_mode:
    description: Nothing is written; the server previews the import, and the task says what would change.
    support: full
  diff_mode:
    description:
      - Shows the manifest keys that change, before and after; environment fields are named with
        what happens to them (added, changed, removed), never with their default values.
    support: full
author:
  - MultiFlexi (Python) developers (@multiflexi)
"""

EXAMPLES = r"""
- name: Import (or update) an application from its manifest
  multiflexi.multiflexi.application:
    manifest_file: /usr/lib/multiflexi-probe/multiflexi/probe.multiflexi.app.json

- name: Manifest kept beside the playbook
  multiflexi.multiflexi.application:
    manifest: "{{ lookup('ansible.builtin.file', 'apps/report.multiflexi.app.json') }}"

- name: Do not schedule it for now
  multiflexi.multiflexi.application:
    uuid: 97f30cf9-2d9e-4d91-ad65-9bdd8b4d8f95
    enabled: false

- name: Gone, with the run templates that use it
  multiflexi.multiflexi.application:
    name: MultiFlexi probe
    state: absent
    force: true
"""

RETURN = r"""
application:
  description:
    - The application after the task (as the API shows it; secret defaults redacted).
    - In check mode, for an application that would be imported, only its uuid and name.
  returned: when O(state=present)
  type: dict
  sample: {"id": 4, "uuid": "97f30cf9-2d9e-4d91-ad65-9bdd8b4d8f95", "name": "MultiFlexi probe"}
id:
  description: The application's id (none in check mode for one that would be imported).
  returned: when the application exists
  type: int
warnings_of_import:
  description: What the server noticed while reading the manifest (legacy spellings, ...).
  returned: when a manifest is given
  type: list
  elements: str
"""

from ansible.module_utils.six import string_types

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import (
    MultiFlexiModule,
)
from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    Outcome,
    ensure_present,
    find,
    read_document,
)

#: manifest keys that say which format it is, not what the application is
FORMAT_KEYS = ("$schema", "schemaVersion")


def natural_key(params, document):
    """The query that finds the application: uuid, else name (options before the manifest's)."""
    uuid = params["uuid"] or (document or {}).get("uuid")
    if uuid:
        return {"uuid": uuid}
    name = params["name"] or (document or {}).get("name")
    if isinstance(name, dict):  # a localized name: its English text is the stored one
        name = name.get("en")
    return {"name": name} if isinstance(name, string_types) and name else {}


def manifest_changes(stored, document):
    """Top-level manifest keys that differ: ``{key: (before, after)}``; fields by name only."""
    changes = {}
    for key in sorted(set(stored) | set(document)):
        if key in FORMAT_KEYS:
            continue
        have, want = stored.get(key), document.get(key)
        if key == "environment":
            have, want = fields_changed(have or {}, want or {})
        if have != want:
            changes[key] = (have, want)
    return changes


def fields_changed(have, want):
    """Environment fields as ``name: state`` maps, so that no default value is shown."""
    before, after = {}, {}
    for name in sorted(set(have) | set(want)):
        if name not in want:
            before[name], after[name] = "present", "removed"
        elif name not in have:
            before[name], after[name] = "absent", "added"
        elif have[name] != want[name]:
            before[name], after[name] = "present", "changed"
    return before, after


def main():
    module = MultiFlexiModule(
        argument_spec=dict(
            id=dict(type="int", aliases=["app_id"]),
            uuid=dict(type="str"),
            name=dict(type="str"),
            manifest_file=dict(type="path", aliases=["file", "deffile"]),
            manifest=dict(type="dict", aliases=["content"]),
            enabled=dict(type="bool"),
            force=dict(type="bool", default=False),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        mutually_exclusive=[("manifest_file", "manifest")],
        required_one_of=[("id", "uuid", "name", "manifest_file", "manifest")],
        supports_check_mode=True,
    )
    params = module.params
    outcome = Outcome(module, "application")
    document = read_document(module, "manifest", "manifest_file", "manifest")
    key = natural_key(params, document)
    if params["id"] is None and not key:
        module.fail_json(msg="the manifest has neither a uuid nor a name: give the application's id")
    current = find(module, "/applications", "application", params["id"], key)

    if params["state"] == "absent":
        if current is not None:
            outcome.removed({k: current.get(k) for k in ("id", "uuid", "name", "version")})
            query = "?force=true" if params["force"] else ""
            outcome.write("DELETE", "/applications/{}{}".format(current["id"], query))
        outcome.exit()

    result = {}
    if document is not None:
        preview = module.call("POST", "/applications/preview", data=document)
        result["warnings_of_import"] = preview.get("warnings", [])
        if current is not None and preview.get("application_id") not in (None, current["id"]):
            module.fail_json(
                msg="the manifest belongs to application {}, not to application {}".format(
                    preview["application_id"], current["id"]
                )
            )
        if preview.get("changed"):
            if current is None:
                outcome.created(
                    {"uuid": document.get("uuid"), "name": document.get("name")}
                )
            else:
                stored = module.call("GET", "/applications/{}/manifest".format(current["id"]))
                changes = manifest_changes(stored or {}, preview.get("manifest") or document)
                outcome.record(changes or {"manifest": ("stored", "differs")})
            answer = outcome.write("POST", "/applications", data=document)
            if answer is not None:
                current = answer["application"]
            elif current is None:
                current = {"uuid": document.get("uuid"), "name": document.get("name")}
    elif current is None:
        what = params["id"] if params["id"] is not None else next(iter(key.values()))
        module.fail_json(
            msg=f"application {what} not found: give its manifest (manifest_file) to import it"
        )

    if params["enabled"] is not None and "id" in current:
        current = ensure_present(
            module, outcome, current, {"enabled": params["enabled"]}, "/applications"
        )
    elif params["enabled"] is not None:  # check mode, an application that would be imported
        current = dict(current, enabled=params["enabled"])
    outcome.exit(application=current, id=current.get("id"), **result)


if __name__ == "__main__":
    main()
