# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Readers of a VM: fetch it with its instance view, and its power and generalization state."""

from __future__ import annotations

from ._errors import azure_errors, get_or_none
from ._module import to_wire


def status_codes(vm):
    """The status codes (``PowerState/running``, ...) of a VM read with ``expand=instanceView``.

    ``vm`` may also be the instance view itself (``virtual_machines.instance_view``): every reader
    below takes either.
    """
    vm = vm or {}
    view = vm if "statuses" in vm else (vm.get("properties") or {}).get("instanceView") or {}
    return [status.get("code") or "" for status in view.get("statuses") or []]


def power_state(vm, default="unknown"):
    """``running``, ``deallocated``, ... from the instance view; ``default`` when it has none."""
    for code in status_codes(vm):
        if code.lower().startswith("powerstate/"):
            return code.split("/", 1)[1].lower()
    return default


def is_generalized(vm):
    """Whether Azure marks the VM generalized (``OSState/generalized``): it can no longer start."""
    return any(code.lower() == "osstate/generalized" for code in status_codes(vm))


def get_vm(compute, resource_group, name, expand="instanceView"):
    """The VM as a wire dict; ``NotFoundError`` naming it and its resource group when it is missing."""
    with azure_errors("read VM '%s'" % name,
                      not_found="VM '%s' was not found in resource group '%s'." % (name, resource_group)):
        return to_wire(compute.virtual_machines.get(resource_group, name, expand=expand))


def find_vm(compute, resource_group, name, expand="instanceView"):
    """The VM as a wire dict, or None when it does not exist."""
    with azure_errors("read VM '%s'" % name):
        return to_wire(get_or_none(compute.virtual_machines.get, resource_group, name, expand=expand))
