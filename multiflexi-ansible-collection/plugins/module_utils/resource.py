# Copyright: MultiFlexi (Python) developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find an object by id or natural key, and make it present or absent.

Here, and only here, live the three things every module must get right:

* idempotency: only the options a task gives are compared, field by field (maps such
  as ``values`` key by key), and a value the server shows redacted (``***``) counts as
  unknown: sent again only when ``update_secrets`` is ``always``;
* check mode: nothing is written, and the task says what would change;
* diff mode: ``before`` and ``after`` of what changes, secrets shown redacted.
"""

import copy
import json

from ansible.module_utils.six import string_types

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.api import REDACTED

#: what a diff shows for a secret the task sends (the old one is never known)
NEW_SECRET = REDACTED + " (new)"

#: the ``update_secrets`` option, shared by the modules that take secrets
UPDATE_SECRETS_SPEC = dict(type="str", default="always", choices=["always", "on_create"])


def same(have, want):
    """Equal, allowing the loose scalar forms a playbook writes (``5`` for ``"5"``)."""
    if have == want:
        return True
    if isinstance(have, (dict, list)) or isinstance(want, (dict, list)):
        return False
    if have is None or want is None:
        return False
    return _scalar(have) == _scalar(want)


def _scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lower() if isinstance(value, (bool, string_types)) else str(value)


def differences(current, desired, secrets=(), update_secrets="always", prefix=""):
    """The desired keys whose value differs from ``current``: ``{dotted key: (have, want)}``.

    ``None`` in ``desired`` means "not managed". A map whose current value is a map is
    compared key by key. ``secrets`` names the dotted keys that are secret: their
    current value is redacted, so they differ only when ``update_secrets`` is
    ``always`` (or when the server says the value is not set at all).
    """
    found = {}
    current = current or {}
    for key in sorted(desired):
        want = desired[key]
        if want is None:
            continue
        dotted = prefix + key
        have = current.get(key)
        if isinstance(want, dict) and isinstance(have, dict):
            found.update(differences(have, want, secrets, update_secrets, dotted + "."))
            continue
        if have == REDACTED or (dotted in secrets and have not in (None, "")):
            if update_secrets == "always":
                found[dotted] = (REDACTED, NEW_SECRET)
            continue
        if not same(have, want):
            shown = NEW_SECRET if dotted in secrets else want
            found[dotted] = (have, shown)
    return found


def changed_part(desired, changes):
    """The part of ``desired`` that ``changes`` names (maps keep only their changed keys)."""
    body = {}
    for dotted in changes:
        keys = dotted.split(".")
        source, target = desired, body
        for key in keys[:-1]:
            source = source[key]
            target = target.setdefault(key, {})
        target[keys[-1]] = source[keys[-1]]
    return body


def redacted(desired, secrets, prefix=""):
    """``desired`` with every secret value shown as :data:`NEW_SECRET`."""
    shown = {}
    for key, value in desired.items():
        dotted = prefix + key
        if isinstance(value, dict):
            shown[key] = redacted(value, secrets, dotted + ".")
        elif dotted in secrets and value not in (None, ""):
            shown[key] = NEW_SECRET
        else:
            shown[key] = value
    return shown


def diff_of(changes):
    """Ansible's ``diff`` (before/after) of :func:`differences`' result."""
    before, after = {}, {}
    for dotted, (have, want) in sorted(changes.items()):
        _put(before, dotted, have)
        _put(after, dotted, want)
    return {"before": before, "after": after}


def _put(target, dotted, value):
    keys = dotted.split(".")
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value


def read_document(module, content_option, file_option, noun):
    """The JSON object a task gives inline (``content_option``) or in a file; None without one."""
    if module.params[content_option] is not None:
        return module.params[content_option]
    source = module.params[file_option]
    if source is None:
        return None
    try:
        with open(source, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as error:
        module.fail_json(msg=f"cannot read the {noun} {source}: {error}")
    if not isinstance(document, dict):
        module.fail_json(msg=f"the {noun} {source} is not a JSON object")
    return document


def find(module, collection, noun, object_id=None, query=None, match=None):
    """The one object with ``object_id``, or the one the natural-key ``query`` finds.

    ``match`` filters the listed objects here, field by exact value, for a natural
    key the API cannot filter on (a credential's name within its company). None when
    nothing matches (an unknown id too); the task fails when several match, listing
    their ids.
    """
    if object_id is not None:
        answer = module.call("GET", f"{collection}/{object_id}", accept=(200, 404))
        return answer if isinstance(answer, dict) and "id" in answer else None
    query = dict((k, v) for k, v in (query or {}).items() if v is not None)
    match = dict((k, v) for k, v in (match or {}).items() if v is not None)
    if not query and not match:
        module.fail_json(msg=f"give the {noun}'s id or its natural key")
    items = module.items(collection, query=query)
    if match:
        items = [i for i in items if all(i.get(k) == v for k, v in match.items())]
    if len(items) > 1:
        module.fail_json(
            msg="more than one {} matches {}: give its id (one of {})".format(
                noun, _describe(dict(query, **match)), ", ".join(str(i["id"]) for i in items)
            )
        )
    return items[0] if items else None


def _describe(query):
    return ", ".join(f"{k}={v}" for k, v in sorted(query.items()))


class Outcome:
    """What a task did: writes go through here, so check mode and diff are handled once."""

    def __init__(self, module, noun):
        self.module = module
        self.noun = noun
        self.changed = False
        self.before = {}
        self.after = {}

    def write(self, method, api_path, data=None, accept=(200, 201, 202, 204)):
        """Send a change (not in check mode, where it answers None) and mark the task changed."""
        self.changed = True
        if self.module.check_mode:
            return None
        return self.module.call(method, api_path, data=data, accept=accept)

    def record(self, changes):
        """Add :func:`differences`' result to the task's diff."""
        for dotted, (have, want) in changes.items():
            _put(self.before, dotted, have)
            _put(self.after, dotted, want)

    def created(self, shown):
        self.before = {"state": "absent"}
        self.after = dict(copy.deepcopy(shown), state="present")

    def removed(self, shown):
        self.before = dict(copy.deepcopy(shown), state="present")
        self.after = {"state": "absent"}

    def exit(self, **result):
        if self.module._diff and self.changed:
            result["diff"] = {"before": self.before, "after": self.after}
        self.module.exit_json(changed=self.changed, **result)


def ensure_present(
    module,
    outcome,
    current,
    desired,
    collection,
    create_extra=None,
    secrets=(),
    update_secrets="always",
    update_method="PATCH",
):
    """Create the object, or PATCH the given options that differ; the object afterwards.

    In check mode the answer is the object as it would be (``current`` with the
    changes, or ``desired`` for a new one, secrets redacted).
    """
    if current is None:
        body = dict(create_extra or {})
        body.update(dict((k, v) for k, v in desired.items() if v is not None))
        outcome.created(redacted(body, secrets))
        answer = outcome.write("POST", collection, data=body)
        return answer if answer is not None else redacted(body, secrets)
    changes = differences(current, desired, secrets, update_secrets)
    if not changes:
        return current
    outcome.record(changes)
    answer = outcome.write(
        update_method,
        "{}/{}".format(collection, current["id"]),
        data=changed_part(desired, changes),
    )
    if answer is not None:
        return answer
    expected = copy.deepcopy(current)
    for dotted, change in changes.items():
        _put(expected, dotted, change[1])
    return expected


def ensure_absent(module, outcome, current, collection, shown=None):
    """Delete the object if it exists."""
    if current is None:
        return
    outcome.removed(shown if shown is not None else current)
    outcome.write("DELETE", "{}/{}".format(collection, current["id"]), accept=(200, 202, 204, 404))


def resolve(module, collection, noun, ref, keys):
    """The object ``ref`` names: its id (digits), or else the first of the natural ``keys``
    (``slug``, ``uuid``, ``name``...) that finds one. The task fails when none does."""
    if ref is None:
        return None
    text = str(ref).strip()
    if text.isdigit():
        found = find(module, collection, noun, int(text))
        if found is not None:
            return found
    else:
        for key in keys:
            found = find(module, collection, noun, query={key: text})
            if found is not None:
                return found
    module.fail_json(
        msg="{} {} not found (give its id or {})".format(noun, text, " or ".join(keys))
    )


def reveal(module, values, secret_names):
    """Show again, in the task's result, the values of a ``no_log`` map that are not secret.

    A map option that may hold secrets is ``no_log``, so Ansible masks each of its values
    wherever it occurs in the result (a value ``1`` would mask every id with a 1). Once
    the module knows which names are secret, the others' values are unmasked, unless a
    secret has the same value.
    """
    kept = set()
    for name, value in (values or {}).items():
        if name in secret_names and value not in (None, ""):
            kept.add(str(value))
    for name, value in (values or {}).items():
        if name not in secret_names and value is not None and str(value) not in kept:
            module.no_log_values.discard(str(value))


def find_run_template(module, ref, company_ref, application_ref):
    """A run template by id, or by name within its company (and application)."""
    text = str(ref).strip()
    if text.isdigit():
        found = find(module, "/run-templates", "run template", int(text))
        if found is None:
            module.fail_json(msg=f"run template {text} not found")
        return found
    company = resolve(module, "/companies", "company", company_ref, ("slug",))
    if company is None:
        module.fail_json(msg=f"give the company of run template {text}, or its id")
    query = dict(company_id=company["id"], name=text)
    application = resolve(module, "/applications", "application", application_ref, ("uuid", "name"))
    if application is not None:
        query["application_id"] = application["id"]
    found = find(module, "/run-templates", "run template", query=query)
    if found is None:
        module.fail_json(
            msg="run template {} not found in company {}".format(text, company["slug"])
        )
    return found


def job_output(module, job_id):
    """Every line of the job's output, joined."""
    lines, after = [], 0
    while True:
        page = module.call("GET", f"/jobs/{job_id}/output", query=dict(after=after, limit=10000))
        lines.extend(item["text"].rstrip("\n") for item in page["items"])
        if not page["items"] or page["next_after"] == after:
            return "\n".join(lines)
        after = page["next_after"]
