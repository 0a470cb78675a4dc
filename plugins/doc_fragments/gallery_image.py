# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The image definition a gallery module works on.
    DOCUMENTATION = r"""
options:
  resource_group:
    description: Resource group of the gallery.
    type: str
    required: true
  gallery:
    description: Name of the Azure Compute Gallery.
    type: str
    required: true
  image:
    description: Name of the gallery image definition.
    type: str
    required: true
"""
