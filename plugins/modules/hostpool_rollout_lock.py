#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hostpool_rollout_lock
short_description: Take, renew or release the rollout lease on an Azure Virtual Desktop host pool
version_added: 0.1.0
description:
  - A rollout lease is the host-pool tag C(goldenimage.rollout-lock) with the value
    C(owner=<run>;expires=<UTC time>;hosts=<N>;in_service=<A>;floor=<F>;target=<version>). Only one
    run holds a valid lease; another run fails clearly (or waits up to O(timeout)) instead of
    rolling the same pool at the same time.
  - The expiry is computed from the Azure Resource Manager clock. V(acquired) takes a free lease, takes over
    a lease that expired (a run that crashed) and renews a lease this O(owner) already holds when less than
    O(renew_below_seconds) are left on it or O(floor) or O(target) change; the pool size and in-service count
    recorded by the first run are kept, so a resumed rollout aims at the same numbers.
  - C(changed) is true only when the lease is taken, renewed or released (in check mode, would be); a lease
    that already says what is asked gives C(changed=false) and writes nothing. With C(--diff), in check mode
    too, RV(diff) holds the lease before and after.
  - V(acquired) also sets C(goldenimage.min-available-hosts) to O(floor), the capacity floor the
    rollout keeps (read by monitoring; the simulator checks it).
  - V(released) lets the lease expire now and removes the floor tag, keeping the resume data for a
    later run (use it when a rollout stops unfinished). V(absent) removes both tags (rollout finished).
author:
  - goldenimage.avd contributors (@goldenimage-avd)
options:
  owner:
    description: Identifier of this run (for example the AWX job id).
    type: str
    required: true
  state:
    description: V(acquired), V(released) or V(absent).
    type: str
    choices: [acquired, released, absent]
    default: acquired
  lease_seconds:
    description: How long the lease lasts from now on the ARM clock; renew it before it ends.
    type: int
    default: 7200
  renew_below_seconds:
    description:
      - V(acquired) renews this O(owner)'s valid lease only when fewer seconds than this are left on it (ARM
        clock), or when O(floor) or O(target) change; otherwise it writes nothing.
      - Default is half of O(lease_seconds). V(0) never renews a lease with the same values; a value of at least
        O(lease_seconds) renews every time.
    type: int
  hosts:
    description: Pool size at the start of the rollout (kept from an earlier lease when there is one).
    type: int
  in_service:
    description: In-service hosts at the start of the rollout (kept from an earlier lease when there is one).
    type: int
  floor:
    description: Capacity floor to publish in C(goldenimage.min-available-hosts).
    type: int
  target:
    description: Version the rollout goes to (informational).
    type: str
  timeout:
    description:
      - Real seconds to wait for another run's lease to end before failing; V(0) fails at once.
      - The alias O(wait_timeout) is the name of earlier releases.
    type: int
    default: 0
    aliases: [wait_timeout]
  poll_interval:
    description: Seconds between two checks while waiting for another run's lease (fractions allowed).
    type: float
    default: 15
  settle_seconds:
    description:
      - Real seconds between writing a new lease and reading it back. Host pools have no conditional
        writes; of two runs that take a free lease at the same moment, only the one whose value is still
        there after this pause goes on, the other fails without having changed anything else.
      - Must be longer than the time between a run's read of the tag and its write (one request).
    type: float
    default: 3
extends_documentation_fragment:
  - goldenimage.avd.azure
  - goldenimage.avd.host_pool
  - goldenimage.avd.attributes
"""

EXAMPLES = r"""
- name: Take the lease for this run
  goldenimage.avd.hostpool_rollout_lock:
    resource_group: rg-avd-demo
    host_pool: hp-demo-pooled
    owner: "awx-{{ tower_job_id | default('cli') }}"
    hosts: 3
    in_service: 3
    floor: 3
    target: 1.0.1

- name: Rollout finished
  goldenimage.avd.hostpool_rollout_lock:
    resource_group: rg-avd-demo
    host_pool: hp-demo-pooled
    owner: "awx-{{ tower_job_id | default('cli') }}"
    state: absent
"""

RETURN = r"""
diff:
  description: The lease before and after (C(lock) as in RV(lock)); in check mode, after is what a real run writes.
  returned: with --diff (in check mode too)
  type: dict
lock:
  description: The lease as read back from the host pool (in check mode, as a real run would leave it).
  returned: always
  type: dict
  contains:
    present: {description: "Whether the tag exists (in check mode, after what the task would do).", type: bool}
    owner: {description: "The run holding it.", type: str}
    expires: {description: "Expiry (UTC, ARM clock).", type: str}
    expired: {description: "Whether it has expired.", type: bool}
    hosts: {description: "Pool size at the start of the rollout.", type: int}
    in_service: {description: "In-service hosts at the start of the rollout.", type: int}
    floor: {description: "Capacity floor.", type: int}
    target: {description: "Target version.", type: str}
"""

from ansible_collections.goldenimage.avd.plugins.module_utils._errors import AzureModuleError
from ansible_collections.goldenimage.avd.plugins.module_utils._hostpool import (
    get_pool,
    lock_state,
    plan_lease,
    plan_release,
    release_lock,
    wait_for_lock,
)
from ansible_collections.goldenimage.avd.plugins.module_utils._module import AzureModule, host_pool_options
from ansible_collections.goldenimage.avd.plugins.module_utils._wait import check_poll_interval


def validate(params):
    if params["lease_seconds"] < 60:
        raise ValueError("lease_seconds must be at least 60")
    if params["renew_below_seconds"] is not None and params["renew_below_seconds"] < 0:
        raise ValueError("renew_below_seconds must be 0 or more seconds")
    if not params["owner"] or ";" in params["owner"] or "=" in params["owner"]:
        raise ValueError("owner must be a non-empty string without ';' or '='")
    check_poll_interval(params["poll_interval"])


def renew_below(params):
    value = params["renew_below_seconds"]
    return params["lease_seconds"] // 2 if value is None else value


def lease_fields(params):
    return {"hosts": params["hosts"], "in_service": params["in_service"], "floor": params["floor"],
            "target": params["target"]}


def preview(azure, pool, before, now):
    """Check mode: what a real run would write, from the same pure plans; writes nothing, never waits."""
    params = azure.params
    try:
        if params["state"] == "acquired":
            action, tags = plan_lease(pool.get("tags"), params["owner"], now, params["lease_seconds"],
                                      lease_fields(params), params["floor"], renew_below(params))
            changed = action != "keep"
        else:
            changed, tags = plan_release(pool.get("tags"), params["owner"], now, params["state"] == "absent")
    except AzureModuleError as error:
        error.message = "host pool %s: %s" % (params["host_pool"], error.message)
        raise
    after = lock_state(tags, now)
    azure.exit(changed, diff=azure.make_diff({"lock": before}, {"lock": after}), lock=after)


def run(azure):
    params = azure.params
    validate(params)
    rg, name = params["resource_group"], params["host_pool"]
    pool = get_pool(azure.desktop, rg, name)
    now = azure.server_now()
    before = lock_state(pool.get("tags"), now)
    if azure.check_mode:
        preview(azure, pool, before, now)
        return
    if params["state"] == "acquired":
        changed, lock, _pool = wait_for_lock(azure.desktop, rg, name, params["owner"], azure.server_now,
                                             params["lease_seconds"], lease_fields(params), params["timeout"],
                                             params["poll_interval"], floor=params["floor"],
                                             settle_seconds=params["settle_seconds"], renew_below=renew_below(params))
        azure.exit(changed, diff=azure.make_diff({"lock": before}, {"lock": lock}), lock=lock)
        return
    changed = release_lock(azure.desktop, rg, name, params["owner"], azure.server_now(),
                           finished=params["state"] == "absent")
    after = lock_state(get_pool(azure.desktop, rg, name).get("tags"), azure.server_now())
    azure.exit(changed, diff=azure.make_diff({"lock": before}, {"lock": after}), lock=after)


def main():
    azure = AzureModule(
        argument_spec=dict(
            **host_pool_options(),
            owner=dict(type="str", required=True),
            state=dict(type="str", choices=["acquired", "released", "absent"], default="acquired"),
            lease_seconds=dict(type="int", default=7200),
            renew_below_seconds=dict(type="int"),
            hosts=dict(type="int"),
            in_service=dict(type="int"),
            floor=dict(type="int"),
            target=dict(type="str"),
            timeout=dict(type="int", default=0, aliases=["wait_timeout"]),
            poll_interval=dict(type="float", default=15),
            settle_seconds=dict(type="float", default=3),
        ),
        supports_check_mode=True,
    )
    azure.run(run)


if __name__ == "__main__":
    main()
