"""The comparison every module relies on: only given options, maps key by key, secrets unknown."""

from __future__ import annotations

from ansible_collections.multiflexi.multiflexi.plugins.module_utils.resource import (
    NEW_SECRET,
    changed_part,
    diff_of,
    differences,
    redacted,
    same,
)


def test_options_not_given_are_not_compared():
    current = {"name": "ACME", "ic": "1", "email": "a@b.example"}
    assert differences(current, {"name": "ACME", "ic": None}) == {}
    assert differences(current, {"ic": "2"}) == {"ic": ("1", "2")}


def test_loose_scalars_match_what_the_server_stores():
    assert same("12345678", 12345678) and same(True, "true") and same(5, 5.0)
    assert not same("5", "6") and not same(None, "") and not same({"a": 1}, "{'a': 1}")


def test_maps_are_compared_key_by_key():
    current = {"values": {"A": "1", "B": "2", "C": "3"}}
    found = differences(current, {"values": {"A": "1", "B": "20"}})
    assert found == {"values.B": ("2", "20")}
    assert changed_part({"values": {"A": "1", "B": "20"}}, found) == {"values": {"B": "20"}}


def test_a_redacted_value_is_unknown_and_sent_again_only_when_asked():
    current = {"values": {"TOKEN": "***", "USER": "joe"}}
    desired = {"values": {"TOKEN": "s3cret", "USER": "joe"}}
    assert differences(current, desired, update_secrets="on_create") == {}
    always = differences(current, desired, update_secrets="always")
    assert always == {"values.TOKEN": ("***", NEW_SECRET)}
    shown = diff_of(always)
    assert shown == {"before": {"values": {"TOKEN": "***"}}, "after": {"values": {"TOKEN": NEW_SECRET}}}
    assert "s3cret" not in repr(shown)


def test_a_secret_not_set_yet_is_a_change_and_is_shown_redacted():
    found = differences({"value": None}, {"value": "s3cret"}, secrets={"value"})
    assert found == {"value": (None, NEW_SECRET)}
    assert redacted({"value": "s3cret", "name": "X"}, {"value"}) == {
        "value": NEW_SECRET,
        "name": "X",
    }
