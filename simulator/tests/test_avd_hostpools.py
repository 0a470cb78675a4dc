"""Host pools and registration tokens, through the real DesktopVirtualizationMgmtClient."""

import datetime as dt
import email.utils

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from spec_validation import validate
from avdsim.testing import SimServer

RG = "rg-avd-demo"


@pytest.fixture(scope="module")
def sim():
    # A slow clock: simulated time moves only when the tests advance it (almost).
    with SimServer(scenario="demo", time_scale=1) as server:
        yield server


@pytest.fixture(scope="module")
def desktop(sim):
    return sim.desktop_client()


def sim_now(sim):
    return dt.datetime.fromisoformat(sim.clock()["sim_now"].replace("Z", "+00:00"))


def iso(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def pool_body(**props):
    body = {"location": "westeurope", "properties": {
        "hostPoolType": "Pooled", "loadBalancerType": "BreadthFirst",
        "preferredAppGroupType": "Desktop", "maxSessionLimit": 5}}
    body["properties"].update(props)
    return body


def test_create_get_list_delete(sim, desktop):
    body = pool_body()
    body["tags"] = {"a": "b"}
    created = desktop.host_pools.create_or_update(RG, "hp-crud", body)
    assert created.tags == {"a": "b"}
    assert created.type == "Microsoft.DesktopVirtualization/hostpools"
    assert "/resourcegroups/" in created.id and "/hostpools/hp-crud" in created.id
    assert created.etag and created.object_id
    raw = desktop.host_pools.get(RG, "hp-crud").serialize(keep_readonly=True)
    validate("avd", "HostPool", raw)
    assert raw["properties"]["maxSessionLimit"] == 5
    assert raw["properties"]["customRdpProperty"]
    # a second PUT is an update (200) that keeps read-only fields
    again = desktop.host_pools.create_or_update(RG, "hp-crud", pool_body(description="x"))
    assert again.object_id == created.object_id and again.etag != created.etag
    assert again.tags is None
    names = [p.name for p in desktop.host_pools.list_by_resource_group(RG)]
    assert "hp-crud" in names
    assert "hp-crud" in [p.name for p in desktop.host_pools.list()]
    desktop.host_pools.delete(RG, "hp-crud")
    with pytest.raises(ResourceNotFoundError):
        desktop.host_pools.get(RG, "hp-crud")
    desktop.host_pools.delete(RG, "hp-crud")  # already gone: 204, no error


def test_patch_changes_only_what_is_sent(desktop):
    desktop.host_pools.create_or_update(RG, "hp-patch", pool_body(description="before"))
    patched = desktop.host_pools.update(RG, "hp-patch", {"properties": {"maxSessionLimit": 9},
                                                        "tags": {"k": "v"}})
    assert patched.max_session_limit == 9 and patched.description == "before"
    assert patched.tags == {"k": "v"} and patched.load_balancer_type == "BreadthFirst"
    patched = desktop.host_pools.update(RG, "hp-patch", {"properties": {"loadBalancerType": "DepthFirst"}})
    assert patched.load_balancer_type == "DepthFirst" and patched.tags == {"k": "v"}
    desktop.host_pools.delete(RG, "hp-patch")


@pytest.mark.parametrize("props, words", [
    ({"hostPoolType": "Shared"}, "hostPoolType"),
    ({"loadBalancerType": "Persistent"}, "Persistent"),
    ({"hostPoolType": "Personal", "loadBalancerType": "BreadthFirst"}, "Persistent"),
    ({"maxSessionLimit": -1}, "maxSessionLimit"),
])
def test_invalid_host_pools_are_refused(desktop, props, words):
    with pytest.raises(HttpResponseError) as err:
        desktop.host_pools.create_or_update(RG, "hp-invalid", pool_body(**props))
    assert err.value.status_code == 400
    assert words in err.value.message
    assert err.value.error.code == "400" and "ActivityId:" in err.value.error.message


def test_unknown_resource_group_and_host_pool(desktop):
    with pytest.raises(ResourceNotFoundError) as err:
        desktop.host_pools.get("rg-missing", "hp-x")
    assert err.value.error.code == "ResourceGroupNotFound"
    with pytest.raises(ResourceNotFoundError) as err:
        desktop.host_pools.get(RG, "hp-missing")
    assert err.value.error.code == "ResourceNotFound"


def test_registration_token_mint_retrieve_list_delete(sim, desktop):
    desktop.host_pools.create_or_update(RG, "hp-token", pool_body())
    assert desktop.host_pools.retrieve_registration_token(RG, "hp-token").token is None
    expires = sim_now(sim) + dt.timedelta(hours=4)
    patched = desktop.host_pools.update(RG, "hp-token", {"properties": {"registrationInfo": {
        "expirationTime": iso(expires), "registrationTokenOperation": "Update"}}})
    info = patched.registration_info
    assert info.token is None and info.registration_token_operation == "Update"
    assert abs((info.expiration_time - expires).total_seconds()) < 1
    # GET never carries the token (the real service shows no registration info at all)
    got = desktop.host_pools.get(RG, "hp-token")
    assert got.registration_info is None or got.registration_info.token is None
    token = desktop.host_pools.retrieve_registration_token(RG, "hp-token")
    assert token.token and token.token.count(".") == 2
    listed = desktop.host_pools.list_registration_tokens(RG, "hp-token")
    assert [t.token for t in listed.value] == [token.token]
    # minting again replaces the token
    desktop.host_pools.update(RG, "hp-token", {"properties": {"registrationInfo": {
        "expirationTime": iso(expires + dt.timedelta(hours=1)), "registrationTokenOperation": "Update"}}})
    assert desktop.host_pools.retrieve_registration_token(RG, "hp-token").token != token.token
    desktop.host_pools.update(RG, "hp-token", {"properties": {"registrationInfo": {
        "registrationTokenOperation": "Delete"}}})
    assert desktop.host_pools.retrieve_registration_token(RG, "hp-token").token is None
    assert desktop.host_pools.list_registration_tokens(RG, "hp-token").value == []
    desktop.host_pools.delete(RG, "hp-token")


@pytest.mark.parametrize("lifetime", [dt.timedelta(minutes=50), dt.timedelta(days=31),
                                      dt.timedelta(hours=-1)])
def test_token_lifetime_must_be_one_hour_to_30_days(sim, desktop, lifetime):
    desktop.host_pools.create_or_update(RG, "hp-expiry", pool_body())
    with pytest.raises(HttpResponseError) as err:
        desktop.host_pools.update(RG, "hp-expiry", {"properties": {"registrationInfo": {
            "expirationTime": iso(sim_now(sim) + lifetime), "registrationTokenOperation": "Update"}}})
    assert err.value.status_code == 400
    assert "ExpirationTime value must be between one hour and 30 days from now" in err.value.message


def test_token_expiry_on_create(sim, desktop):
    body = pool_body(registrationInfo={"expirationTime": iso(sim_now(sim) + dt.timedelta(days=29)),
                                       "registrationTokenOperation": "Update"})
    created = desktop.host_pools.create_or_update(RG, "hp-born-with-token", body)
    assert created.registration_info.token is None
    assert desktop.host_pools.retrieve_registration_token(RG, "hp-born-with-token").token
    desktop.host_pools.delete(RG, "hp-born-with-token")


def test_list_pages_follow_next_link(desktop):
    for i in range(3):
        desktop.host_pools.create_or_update(RG, "hp-page-%d" % i, pool_body())
    pages = desktop.host_pools.list_by_resource_group(RG, page_size=1).by_page()
    seen = [[p.name for p in page] for page in pages]
    assert len(seen) >= 4 and all(len(page) == 1 for page in seen)
    names = [name for page in seen for name in page]
    assert {"hp-page-0", "hp-page-1", "hp-page-2"} <= set(names)
    assert len(names) == len(set(names))
    for i in range(3):
        desktop.host_pools.delete(RG, "hp-page-%d" % i)


def test_date_header_is_simulated_time(sim, desktop):
    response = desktop.host_pools.get(RG, "hp-demo-pooled", cls=lambda resp, obj, headers: resp)
    date = email.utils.parsedate_to_datetime(response.http_response.headers["Date"])
    assert abs((date - sim_now(sim)).total_seconds()) < 120


def test_refused_create_leaves_nothing_behind(sim, desktop):
    body = pool_body(registrationInfo={"expirationTime": iso(sim_now(sim) + dt.timedelta(minutes=5)),
                                       "registrationTokenOperation": "Update"})
    with pytest.raises(HttpResponseError):
        desktop.host_pools.create_or_update(RG, "hp-refused", body)
    with pytest.raises(ResourceNotFoundError):
        desktop.host_pools.get(RG, "hp-refused")
    assert "hp-refused" not in [p.name for p in desktop.host_pools.list()]
