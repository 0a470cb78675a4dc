"""windows_update input checks."""

from __future__ import annotations

import pytest

from ansible_collections.goldenimage.avd.plugins.module_utils._updates import check_kb_ids


def test_kb_ids_are_accepted():
    check_kb_ids(["KB5046617", "kb5044284"])
    check_kb_ids([])


@pytest.mark.parametrize("value", ["", "KB1,KB2", "K" * 33])
def test_bad_kb_ids_name_the_option(value):
    with pytest.raises(ValueError, match="Option 'updates' holds"):
        check_kb_ids([value])
