# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Test helper only (not shipped): ansible-core no longer bundles a JSON stdout callback
# (it moved to ansible.posix), so the integration helpers bring their own.

from __future__ import annotations

DOCUMENTATION = r"""
name: goldenimage_test_json
type: stdout
short_description: One JSON document with every task result (for the integration tests)
description:
  - Prints, when the playbook ends, one JSON document shaped like the output of the
    C(ansible.posix.json) callback, with the keys C(plays) and C(stats).
author: goldenimage.avd contributors (@goldenimage)
"""

import json

from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "goldenimage_test_json"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plays = []

    def _current_tasks(self):
        return self._plays[-1]["tasks"]

    def v2_playbook_on_play_start(self, play):
        self._plays.append({"play": {"name": play.get_name(), "id": str(play._uuid)}, "tasks": []})

    def _task_start(self, task):
        if not self._plays:
            self._plays.append({"play": {"name": "", "id": ""}, "tasks": []})
        self._current_tasks().append({
            "task": {"name": task.get_name(), "action": task.action, "id": str(task._uuid)},
            "hosts": {},
        })

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task)

    def _record(self, result, **extra):
        data = dict(getattr(result, "result", None) or result._result)
        data.update(extra)
        host = result._host.get_name()
        task_id = str(result._task._uuid)
        for entry in reversed(self._current_tasks()):
            if entry["task"]["id"] == task_id:
                entry["hosts"][host] = data
                return
        self._task_start(result._task)
        self._current_tasks()[-1]["hosts"][host] = data

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._record(result, failed=True, ignore_errors=bool(ignore_errors))

    def v2_runner_on_skipped(self, result, **kwargs):
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._record(result, unreachable=True, failed=True)

    def v2_playbook_on_stats(self, stats):
        summary = {host: stats.summarize(host) for host in sorted(stats.processed)}
        document = {"plays": self._plays, "stats": summary}
        self._display.display(json.dumps(document, cls=AnsibleJSONEncoder, indent=2, sort_keys=True))
