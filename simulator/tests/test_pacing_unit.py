"""The pacer's rules on a fake simulator clock (no server): which requests keep a wait and how
far each one moves the clock."""

import pytest

from avdsim.pacing import WAIT_HEADER, Pacer, wait_header

VM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
OTHER = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm2"
OP = "/subscriptions/s/providers/Microsoft.Compute/locations/westeurope/operations/op1"
A, B = ("127.0.0.1", 5001), ("127.0.0.1", 5002)


class FakeSim:
    def __init__(self):
        self.t = 1000.0

    def now(self):
        return self.t

    def advance_to(self, target):
        moved = max(0.0, target - self.t)
        self.t += moved
        return moved


@pytest.fixture(name="paced")
def fixture_paced():
    sim = FakeSim()
    return sim, Pacer(sim, 15.0)


def test_an_appointment_moves_the_clock_to_the_time_the_client_was_asked_to_come_back(paced):
    sim, pacer = paced
    headers = {"Azure-AsyncOperation": "https://127.0.0.1:1" + OP + "?api-version=2026-04-01",
               **wait_header(12.5)}
    pacer.before(A, "POST", VM + "/deallocate", "api-version=2026-04-01")
    pacer.after("POST", VM + "/deallocate", "api-version=2026-04-01", 202, headers)
    assert WAIT_HEADER not in headers  # internal: never sent
    sim.t += 0.01  # the client came back after its (compressed) real wait
    pacer.before(B, "GET", OP, "api-version=2026-04-01")  # any connection keeps it
    assert sim.t == pytest.approx(1012.5)
    pacer.before(B, "GET", OP, "api-version=2026-04-01")  # kept once: nothing pending now
    assert sim.t == pytest.approx(1012.5)
    assert pacer.state()["waits_kept"] == {"appointments": 1, "polls": 0}


def test_a_wait_already_over_in_real_time_moves_nothing(paced):
    sim, pacer = paced
    pacer.after("GET", VM, "", 429, {**wait_header(5)})
    sim.t += 9  # the client came back later than asked (a slow controller): real time counts
    pacer.before(A, "GET", VM, "")
    assert sim.t == 1009


def test_a_throttled_request_keeps_its_wait_when_retried(paced):
    sim, pacer = paced
    pacer.before(A, "PUT", VM, "api-version=1")
    pacer.after("PUT", VM, "api-version=1", 429, {"Retry-After": "1", **wait_header(40)})
    pacer.before(A, "PUT", VM, "api-version=1")
    assert sim.t == 1040


def test_a_re_read_is_a_poll_only_while_something_is_pending(paced):
    sim, pacer = paced
    pacer.before(A, "GET", VM, "$expand=instanceView")
    pacer.before(A, "GET", VM, "$expand=instanceView")
    assert sim.t == 1000  # nothing pending: a tight loop is paced by real time (and throttled)
    pacer.expect(VM, 1100.0)  # e.g. the guest shuts down after sysprep
    polls = 0
    while pacer.pending(VM.lower()):
        pacer.before(A, "GET", VM, "$expand=instanceView")
        polls += 1
        assert polls < 20
    assert sim.t == 1105 and polls == 7  # 7 polls at 15 s: seen at the first poll after 1100
    pacer.before(A, "GET", VM, "$expand=instanceView")
    assert sim.t == 1105


def test_a_poll_is_per_connection_and_per_url(paced):
    sim, pacer = paced
    pacer.expect(VM, 5000.0)
    pacer.before(A, "GET", VM, "")
    pacer.before(B, "GET", VM, "")  # another client's first read
    pacer.before(A, "GET", VM, "$expand=instanceView")  # another URL
    assert sim.t == 1000
    pacer.before(A, "GET", VM, "")
    assert sim.t == 1015


def test_concurrent_polls_overlap_instead_of_adding_up(paced):
    sim, pacer = paced
    pacer.expect(VM, 5000.0)
    pacer.expect(OTHER, 5000.0)
    for client, url in ((A, VM), (B, OTHER)):
        pacer.before(client, "GET", url, "")
    for _ in range(4):
        for client, url in ((A, VM), (B, OTHER)):
            pacer.before(client, "GET", url, "")
    assert sim.t == 1060  # two clients waiting at once: 4 intervals, not 8


def test_a_write_to_the_resource_or_its_parent_or_child_between_reads_is_not_a_poll(paced):
    sim, pacer = paced
    pacer.expect(VM, 5000.0)
    for port, written in enumerate((VM, VM + "/extensions/join", "/subscriptions/s/resourceGroups/rg")):
        client = ("127.0.0.1", 6000 + port)
        pacer.before(client, "GET", VM, "")
        pacer.before(B, "PATCH", written, "")
        pacer.before(client, "GET", VM, "")
        assert sim.t == 1000, written
    pacer.before(A, "GET", VM, "")
    pacer.before(B, "PATCH", OTHER, "")  # a sibling: the client still waits
    pacer.before(A, "GET", VM, "")
    assert sim.t == 1015


def test_a_list_is_pending_while_a_member_is(paced):
    sim, pacer = paced
    listing = VM.rsplit("/", 1)[0]
    pacer.expect(VM, 1020.0)
    pacer.before(A, "GET", listing, "")
    pacer.before(A, "GET", listing, "")
    pacer.before(A, "GET", listing, "")
    assert sim.t == 1030
    pacer.before(A, "GET", listing, "")
    assert sim.t == 1030


def test_a_provider_predicate_makes_a_wait_pending(paced):
    sim, pacer = paced
    users_left = {"n": 3}
    pacer.add_predicate(lambda resource: resource.startswith("/pools/p1") and users_left["n"] > 0)
    pacer.before(A, "GET", "/pools/p1/userSessions", "")
    for _ in range(3):
        pacer.before(A, "GET", "/pools/p1/userSessions", "")
        users_left["n"] -= 1
    before = sim.t
    pacer.before(A, "GET", "/pools/p1/userSessions", "")
    assert before == 1045 and sim.t == 1045


def test_lost_write_history_is_not_taken_for_a_wait(paced, monkeypatch):
    sim, pacer = paced
    monkeypatch.setattr("avdsim.pacing._MAX_WRITES", 3)
    pacer = Pacer(sim, 15.0)
    pacer.expect(VM, 5000.0)
    pacer.before(A, "GET", VM, "")
    for _ in range(10):
        pacer.before(B, "PUT", OTHER, "")
    pacer.before(A, "GET", VM, "")
    assert sim.t == 1000


def test_the_poll_interval_must_be_positive():
    with pytest.raises(ValueError):
        Pacer(FakeSim(), 0)
