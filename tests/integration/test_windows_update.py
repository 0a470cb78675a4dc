"""windows_update against the simulator: check mode writes nothing, a real run installs and restarts,
a second run changes nothing, KB filtering, and the refusals before anything runs."""

from __future__ import annotations

import pytest

from helpers import run_module, wire
from test_vm_backup import vm_guest
from test_vm_clone import CLONE, ORIGINAL, RG, TIME_SCALE, deallocate_original

DEMO_PENDING = ["KB5044284", "KB5044033", "KB2267602"]


@pytest.fixture
def sim(fresh_sim):
    return fresh_sim(scenario="demo", time_scale=TIME_SCALE)


def pending(sim):
    return [u["kb"] for u in vm_guest(sim)["pending_updates"]]


def run_commands(sim):
    ops = sim.metrics()["requests"]["by_operation"]
    return sum(n for op, n in ops.items() if op.startswith("POST") and op.endswith("/runCommand"))


def test_check_install_idempotent(sim):
    args = {"resource_group": RG, "name": ORIGINAL}
    assert pending(sim) == DEMO_PENDING

    # check mode writes nothing: a scan would be a Run Command, an Azure action; not knowing, it claims no change
    check = run_module(sim, "windows_update", args, check=True, diff=True)
    assert not check["failed"], check
    assert check["changed"] is False and check["scanned"] is False and "not scanned" in check["msg"]
    assert any("did not scan" in warning for warning in check["warnings"])
    assert check["installed"] == [] and check["to_install"] == [] and check["rebooted"] is False
    assert sim.metrics()["requests"]["writes"] == 0 and run_commands(sim) == 0
    assert pending(sim) == DEMO_PENDING and not vm_guest(sim)["pending_reboot"]

    real = run_module(sim, "windows_update", args, diff=True)
    assert not real["failed"], real
    assert real["changed"] is True and real["installed"] == DEMO_PENDING and real["scanned"] is True
    assert real["to_install"] == DEMO_PENDING and real["pending_before"] == DEMO_PENDING
    # the cumulative update asked for a restart, and the module restarted the VM
    assert real["reboot_required"] is True and real["rebooted"] is True
    assert real["diff"] == {"before": {"pending": DEMO_PENDING}, "after": {"pending": []}}
    guest = vm_guest(sim)
    assert pending(sim) == [] and not guest["pending_reboot"]
    assert set(DEMO_PENDING) <= set(guest["installed_content"])
    vm = wire(sim.compute_client().virtual_machines.instance_view(RG, ORIGINAL))
    assert "PowerState/running" in [s["code"] for s in vm["statuses"]]

    again = run_module(sim, "windows_update", args)
    assert not again["failed"] and again["changed"] is False, again
    assert again["installed"] == [] and again["to_install"] == [] and again["pending_before"] == []


def test_only_the_named_updates_without_restart(sim):
    args = {"resource_group": RG, "name": ORIGINAL, "updates": ["kb2267602"], "reboot": False}
    real = run_module(sim, "windows_update", args)
    assert not real["failed"], real
    assert real["installed"] == ["KB2267602"]
    assert real["reboot_required"] is False and real["rebooted"] is False
    assert pending(sim) == ["KB5044284", "KB5044033"]

    # the named update is no longer pending: nothing to do, although others still are
    again = run_module(sim, "windows_update", args)
    assert not again["failed"] and again["changed"] is False and again["to_install"] == [], again
    assert again["pending_before"] == ["KB5044284", "KB5044033"]

    # an update that needs a restart, with reboot: false: installed, the restart left to the operator
    cumulative = run_module(sim, "windows_update", {"resource_group": RG, "name": ORIGINAL,
                                                    "updates": ["KB5044284"], "reboot": False})
    assert not cumulative["failed"], cumulative
    assert cumulative["installed"] == ["KB5044284"]
    assert cumulative["reboot_required"] is True and cumulative["rebooted"] is False
    assert vm_guest(sim)["pending_reboot"] is True


def test_an_update_named_by_its_guid(sim):
    update = next(u for u in vm_guest(sim)["pending_updates"] if u["kb"] == "KB2267602")
    result = run_module(sim, "windows_update", {"resource_group": RG, "name": ORIGINAL, "reboot": False,
                                                "updates": ["{%s}" % update["update_id"].upper()]})
    assert not result["failed"], result
    assert result["installed"] == ["KB2267602"] and result["to_install"] == ["KB2267602"]
    assert pending(sim) == ["KB5044284", "KB5044033"]


@pytest.mark.parametrize("args,needle", [
    ({"updates": ["KB1,KB2"]}, "Option 'updates' holds 'KB1,KB2'; give KB article numbers"),
    ({"updates": [""]}, "Option 'updates'"),
    ({"updates": ["5034441"]}, "such as 'KB5034441'"),
    ({"updates": ["KB5034441", "Security Update"]}, "or Windows Update GUIDs"),
    ({"timeout": -1}, "Option 'timeout'"),
    ({"name": "bad/name"}, "name"),
])
def test_bad_input_is_refused_before_anything_runs(sim, args, needle):
    before = run_commands(sim)
    result = run_module(sim, "windows_update", {"resource_group": RG, "name": ORIGINAL, **args})
    assert result["failed"] and needle in result["msg"], result
    assert run_commands(sim) == before
    assert pending(sim) == DEMO_PENDING


def test_a_deallocated_vm_is_refused_with_the_way_out(sim):
    deallocate_original(sim)
    writes = sim.metrics()["requests"]["writes"]
    result = run_module(sim, "windows_update", {"resource_group": RG, "name": ORIGINAL})
    assert result["failed"], result
    assert "deallocated" in result["msg"] and "goldenimage.avd.vm_power" in result["msg"], result
    # a preview warns instead: in a previewed play, the task that starts the VM did not start it
    check = run_module(sim, "windows_update", {"resource_group": RG, "name": ORIGINAL}, check=True)
    assert not check["failed"] and check["changed"] is False and check["scanned"] is False, check
    assert any("deallocated now" in w for w in check["warnings"]), check
    assert sim.metrics()["requests"]["writes"] == writes
    assert pending(sim) == DEMO_PENDING


def test_a_generalized_vm_is_refused_also_in_check_mode(sim):
    compute = sim.compute_client()
    deallocate_original(sim)
    made = run_module(sim, "vm_clone", {"resource_group": RG, "source_vm": ORIGINAL, "name": CLONE})
    assert not made["failed"], made
    compute.virtual_machines.begin_deallocate(RG, CLONE).result()
    compute.virtual_machines.generalize(RG, CLONE)
    for check in (True, False):
        result = run_module(sim, "windows_update", {"resource_group": RG, "name": CLONE}, check=check)
        assert result["failed"] and "generalized" in result["msg"], result


def test_missing_vm_is_a_clear_not_found(sim):
    result = run_module(sim, "windows_update", {"resource_group": RG, "name": "vm-does-not-exist"})
    assert result["failed"] and "vm-does-not-exist" in result["msg"], result
