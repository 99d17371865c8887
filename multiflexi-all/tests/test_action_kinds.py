"""The core's catalogue of action kinds and the executor's plug-ins agree (both installed)."""

from __future__ import annotations

from multiflexi.core import actions


def test_the_executor_installs_every_built_in_action_kind_under_the_group_the_core_names():
    # the core alone (its own tests) has no executor: only an installation of both can tell
    assert set(actions.BUILTIN) <= set(actions.installed())
