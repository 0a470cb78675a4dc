"""windows_update: which pending updates a run installs (by KB id or update GUID)."""

from __future__ import annotations

import pytest

from ansible_collections.goldenimage.avd.plugins.module_utils._updates import select_updates

REPORT = {
    "pendingUpdates": ["KB5044284", "KB5044033", "KB2267602"],
    "pendingUpdateIds": [{"kb": "KB5044284", "id": "aaaaaaaa-0000-4000-8000-000000000001"},
                         {"kb": "KB5044033", "id": "aaaaaaaa-0000-4000-8000-000000000002"},
                         {"kb": "KB2267602", "id": "aaaaaaaa-0000-4000-8000-000000000003"}],
}


@pytest.mark.parametrize("updates, expected", [
    ([], ["KB5044284", "KB5044033", "KB2267602"]),
    (["KB2267602"], ["KB2267602"]),
    (["aaaaaaaa-0000-4000-8000-000000000002"], ["KB5044033"]),
    (["KB5044284", "aaaaaaaa-0000-4000-8000-000000000003"], ["KB5044284", "KB2267602"]),
    (["KB1"], []),
    (["bbbbbbbb-0000-4000-8000-000000000009"], []),
])
def test_select_updates(updates, expected):
    assert select_updates(REPORT, updates) == expected


def test_a_scan_without_guids_selects_by_kb_only():
    report = {"pendingUpdates": ["KB1"]}
    assert select_updates(report, ["KB1"]) == ["KB1"]
    assert select_updates(report, ["aaaaaaaa-0000-4000-8000-000000000001"]) == []
