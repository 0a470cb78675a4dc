"""The user-load model on its own, driven by explicit simulated seconds (a fake clock)."""

import pytest

from avdsim.users import (
    ACTIVE,
    DISCONNECTED,
    LoadProfile,
    PoolUsers,
    SessionLength,
    aggregate_metrics,
)

MIN = 60.0


def make_pool(hosts=3, limit=8, lb="BreadthFirst", **profile):
    settings = {"target_concurrent_users": 12, "logon_rate_per_min": 4.0, "seed": 7,
                "disconnect_probability": 0.0}
    settings.update(profile)
    pool = PoolUsers("hp-test", LoadProfile.from_dict(settings), load_balancer_type=lb,
                     max_session_limit=limit)
    for i in range(hosts):
        pool.upsert_host(0.0, "hp-test/avd-%d.contoso.com" % i, available=True, allow_new_session=True,
                         record=False)
    pool.record_capacity(0.0)
    return pool


def per_host(pool):
    return {seat.name.split("/")[1].split(".")[0]: len(seat.sessions) for seat in pool.hosts.values()}


def test_profile_validation_names_the_setting():
    with pytest.raises(ValueError, match="unknown user-load setting"):
        LoadProfile.from_dict({"users": 3})
    with pytest.raises(ValueError, match="distribution"):
        LoadProfile.from_dict({"session_minutes": {"distribution": "gaussian"}})
    with pytest.raises(ValueError, match="logon_rate_per_min"):
        LoadProfile.from_dict({"logon_rate_per_min": 0})


@pytest.mark.parametrize("dist", ["lognormal", "exponential", "uniform", "fixed"])
def test_session_lengths_are_seeded_and_clamped(dist):
    import random

    spec = SessionLength(distribution=dist, min_minutes=10, max_minutes=60)
    a = [spec.sample_seconds(random.Random(3)) for _ in range(5)]
    b = [spec.sample_seconds(random.Random(3)) for _ in range(5)]
    assert a == b
    samples = [spec.sample_seconds(random.Random(i)) for i in range(200)]
    assert all(10 * MIN <= s <= 60 * MIN for s in samples)


def test_same_seed_same_history():
    def run():
        pool = make_pool(disconnect_probability=0.3)
        pool.populate(0.0)
        pool.advance_to(240 * MIN)
        return pool.capacity_timeline, pool.counters.__dict__

    assert run() == run()


def test_breadth_first_spreads_sessions():
    pool = make_pool()
    assert pool.populate(0.0) == 12
    assert per_host(pool) == {"avd-0": 4, "avd-1": 4, "avd-2": 4}


def test_depth_first_fills_one_host_first():
    pool = make_pool(lb="DepthFirst")
    pool.populate(0.0)
    assert per_host(pool) == {"avd-0": 8, "avd-1": 4, "avd-2": 0}


def test_no_capacity_is_a_logon_failure():
    pool = make_pool(hosts=1, limit=2, target_concurrent_users=5)
    pool.populate(0.0)
    assert pool.session_count() == 2
    pool.advance_to(5 * MIN)
    assert pool.counters.logon_failures == pool.counters.logon_attempts > 0
    pool.advance_to(120 * MIN)  # sessions ended and freed seats: some logons succeed again
    assert pool.counters.logon_attempts > pool.counters.logon_failures
    assert pool.session_count() <= 2


def test_population_stays_near_target_and_sessions_end_naturally():
    pool = make_pool()
    pool.populate(0.0)
    samples = []
    for minute in range(1, 600, 10):
        pool.advance_to(minute * MIN)
        samples.append(pool.session_count())
    assert pool.counters.sessions_ended_naturally > 50
    assert pool.counters.logon_failures == 0
    assert pool.counters.forced_logoffs == 0
    assert min(samples) >= 8 and max(samples) <= 12


def test_drain_steers_logons_away_and_sessions_decay():
    pool = make_pool()
    pool.populate(0.0)
    drained = "hp-test/avd-0.contoso.com"
    pool.upsert_host(1 * MIN, drained, available=True, allow_new_session=False)
    assert pool.available_hosts() == 2
    before = pool.counters.logon_attempts
    pool.advance_to(100 * MIN)  # longer than the longest session (90 minutes)
    assert len(pool.host(drained).sessions) == 0
    assert pool.counters.logon_attempts > before
    assert pool.counters.logon_failures == 0
    assert per_host(pool)["avd-1"] + per_host(pool)["avd-2"] == pool.session_count()
    assert pool.min_available_hosts == 2
    # the drained host stays out of the capacity; removing it now hurts nobody
    assert pool.remove_host(100 * MIN, drained, "session host deleted") == []
    assert pool.counters.forced_logoffs == 0


def test_deallocation_ends_sessions_as_forced_logoffs():
    pool = make_pool()
    pool.populate(0.0)
    host = "hp-test/avd-1.contoso.com"
    ended = pool.end_host_sessions(2 * MIN, host, "VM deallocated")
    assert len(ended) == 4
    assert pool.counters.forced_logoffs == 4
    assert pool.counters.forced_logoffs_without_warning == 4
    assert {entry["reason"] for entry in pool.log} == {"VM deallocated"}


FIXED_HOUR = {"distribution": "fixed", "minutes": 60, "min_minutes": 10, "max_minutes": 90}


def test_warning_must_reach_the_user_long_enough_before():
    pool = make_pool(warning_minutes=5, session_minutes=FIXED_HOUR, initial_sessions=0)
    pool.advance_to(3 * MIN)  # everyone logs on now, for an hour
    pool.populate(0.0)
    host = "hp-test/avd-0.contoso.com"
    sessions = pool.sessions(host)
    early, late, unwarned = sessions[0], sessions[1], sessions[2]
    pool.send_message(4 * MIN, host, early.session_id, "Maintenance", "Please save your work")
    pool.send_message(7 * MIN, host, late.session_id, "Maintenance", "Please save your work")
    assert pool.counters.messages_sent == 2
    for session in (early, late, unwarned):
        assert pool.logoff(10 * MIN, host, session.session_id)
    assert pool.counters.forced_logoffs == 3
    # only the message sent 6 minutes before counts
    assert pool.counters.forced_logoffs_without_warning == 2


def test_message_to_a_disconnected_session_does_not_reach_the_user():
    pool = make_pool(reconnect_minutes=60)
    pool.populate(0.0)
    host = "hp-test/avd-2.contoso.com"
    session = pool.sessions(host)[0]
    assert pool.disconnect(1 * MIN, host, session.session_id)
    assert pool.get_session(host, session.session_id).state == DISCONNECTED
    pool.send_message(1 * MIN, host, session.session_id, "t", "b")
    if pool.get_session(host, session.session_id) is not None:
        pool.logoff(10 * MIN, host, session.session_id)
        assert pool.counters.forced_logoffs_without_warning == 1


def test_disconnected_users_come_back_to_their_session():
    pool = make_pool(reconnect_minutes=1, session_minutes={"distribution": "fixed", "minutes": 60,
                                                           "min_minutes": 10, "max_minutes": 90})
    pool.populate(0.0)
    host = "hp-test/avd-0.contoso.com"
    session = pool.sessions(host)[0]
    ends = session.ends_s
    pool.disconnect(0.0, host, session.session_id)
    pool.upsert_host(0.0, host, available=True, allow_new_session=False)  # drain: reconnect still works
    pool.advance_to(min(ends - 1, 30 * MIN))
    assert pool.get_session(host, session.session_id).state == ACTIVE


def test_disconnected_sessions_count_against_the_limit():
    pool = make_pool(hosts=1, limit=2, target_concurrent_users=2, reconnect_minutes=500)
    pool.populate(0.0)
    for session in pool.sessions():
        pool.disconnect(0.0, session.host, session.session_id)
    assert pool.free_slots() == 0


def test_session_ids_are_per_host_integers_from_two():
    pool = make_pool()
    pool.populate(0.0)
    ids = sorted(int(s.session_id) for s in pool.sessions("hp-test/avd-0.contoso.com"))
    assert ids == [2, 3, 4, 5]


def test_unavailable_host_takes_no_logons_and_capacity_timeline_records_it():
    pool = make_pool()
    pool.populate(0.0)
    pool.end_host_sessions(60.0, "hp-test/avd-2.contoso.com", "VM stopped")
    pool.upsert_host(60.0, "hp-test/avd-2.contoso.com", available=False, allow_new_session=True)
    pool.advance_to(30 * MIN)
    assert len(pool.host("hp-test/avd-2.contoso.com").sessions) == 0
    assert [60.0, 2, 16 - 8] in pool.capacity_timeline or any(
        p[0] == 60.0 and p[1] == 2 for p in pool.capacity_timeline)
    assert pool.min_available_hosts == 2


def test_personal_pool_assigns_one_user_per_host():
    pool = PoolUsers("hp-personal", LoadProfile.from_dict({"target_concurrent_users": 3, "seed": 2}),
                     host_pool_type="Personal", load_balancer_type="Persistent", max_session_limit=999)
    for i in range(2):
        pool.upsert_host(0.0, "hp-personal/pc-%d" % i, available=True, allow_new_session=True)
    pool.populate(0.0)
    assert pool.session_count() == 2
    assert {seat.assigned_user is not None for seat in pool.hosts.values()} == {True}


def test_aggregate_metrics_shape():
    pool = make_pool()
    pool.populate(0.0)
    pool.advance_to(30 * MIN)
    users = aggregate_metrics([pool])
    assert set(users) == {
        "logon_attempts", "logon_failures", "sessions_active", "sessions_ended_naturally",
        "forced_logoffs", "forced_logoffs_without_warning", "messages_sent",
        "min_available_hosts", "capacity_timeline",
    }
    assert users["sessions_active"] == pool.session_count()
    assert all(len(point) == 3 for point in users["capacity_timeline"])
    assert aggregate_metrics([])["capacity_timeline"] == []


def test_aggregate_over_two_pools_sums_capacity():
    a, b = make_pool(hosts=2), make_pool(hosts=1)
    b.name = "other"
    users = aggregate_metrics([a, b])
    assert users["capacity_timeline"][-1][1:] == [3, 24]
    assert users["min_available_hosts"] <= 3


def test_default_logon_rate_reaches_the_target():
    settings = {"target_concurrent_users": 80, "seed": 3, "disconnect_probability": 0.0,
                "session_minutes": {"distribution": "lognormal", "median_minutes": 30, "sigma": 0.4,
                                    "min_minutes": 10, "max_minutes": 60}}
    pool = PoolUsers("hp-big", LoadProfile.from_dict(settings), max_session_limit=8)
    for i in range(20):
        pool.upsert_host(0.0, "avd-big-%d" % i, available=True, allow_new_session=True, record=False)
    pool.populate(0.0)
    counts = []
    for hour in range(1, 6):
        pool.advance_to(hour * 3600.0)
        counts.append(pool.session_count())
    assert min(counts) >= 70, counts
    assert LoadProfile.from_dict(settings).logon_rate() == pytest.approx(4.0)
