# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # User tags on the resources a module creates or manages.
    DOCUMENTATION = r"""
options:
  tags:
    description:
      - Tags to set on the resources this task creates or manages, as a dictionary of key and value.
      - Keys starting with C(goldenimage.) are reserved for the collection's own bookkeeping
        (see the README section "Tags") and are refused here.
      - Tag keys may not contain C(<), C(>), C(%), C(&), C(\\), C(?) or C(/) (Azure rule).
      - Azure allows at most 50 tags on a resource (the collection's own tags count), names of at most 512 and
        values of at most 256 characters; more is refused before anything is written.
    type: dict
  purge_tags:
    description:
      - When V(true), user tags not listed in O(tags) are removed.
      - Tags with the C(goldenimage.) prefix are never removed by this option.
      - When O(tags) is not set, tags are left unchanged whatever this option says.
    type: bool
    default: false
"""
