# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: write each task's result, by task name, and the play stats to $RECORD_FILE."""

from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: record
type: aggregate
short_description: the tests' record of a playbook run
description: Writes each task's result by task name and the stats to the file in RECORD_FILE.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.results: dict[str, dict] = {}

    def _keep(self, result, status: str) -> None:
        kept = json.loads(json.dumps(dict(result._result), default=str))
        kept["_status"] = status
        self.results[result._task.get_name()] = kept

    def v2_runner_on_ok(self, result) -> None:
        self._keep(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False) -> None:
        self._keep(result, "failed")

    def v2_runner_on_skipped(self, result) -> None:
        self._keep(result, "skipped")

    def v2_playbook_on_stats(self, stats) -> None:
        summary = {host: stats.summarize(host) for host in sorted(stats.processed)}
        with open(os.environ["RECORD_FILE"], "w", encoding="utf-8") as handle:
            json.dump({"results": self.results, "stats": summary}, handle)
