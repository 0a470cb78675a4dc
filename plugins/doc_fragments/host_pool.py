# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The Azure Virtual Desktop host pool a module works on (a module may describe resource_group further).
    DOCUMENTATION = r"""
options:
  resource_group:
    description: Resource group of the host pool.
    type: str
    required: true
  host_pool:
    description: Name of the host pool.
    type: str
    required: true
"""
