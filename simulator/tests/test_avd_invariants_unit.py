"""Pure parts of the invariant monitor: where secrets may live, and how leaks are found."""

import pytest

from avdsim.invariants import SecretRegistry, is_secret_field, parse_floor, tags_mark_original

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJSZWdpc3RyYXRpb25JZCI6IjEifQ.c2lnbmF0dXJl"


@pytest.mark.parametrize("path, secret", [
    ("properties.protectedSettings.properties.registrationInfoToken", True),
    ("properties.protectedSettings", True),
    ("properties.osProfile.adminPassword", True),
    ("properties.protectedParameters[0].value", True),
    ("properties.settings.properties.registrationInfoToken", False),
    ("tags.note", False),
    ("properties.vmTemplate", False),
    ("properties.source.script[1]", False),
])
def test_secret_fields(path, secret):
    assert is_secret_field(path) is secret


@pytest.mark.parametrize("body, leaked_at", [
    ({"tags": {"note": "token " + TOKEN}}, ["tags.note"]),
    ({"tags": {TOKEN: "x"}}, ["tags." + TOKEN]),
    ({"properties": {"vmTemplate": '{"t": "%s"}' % TOKEN}}, ["properties.vmTemplate"]),
    ({"properties": {"settings": {"properties": {"registrationInfoToken": TOKEN}}}},
     ["properties.settings.properties.registrationInfoToken"]),
    ({"properties": {"protectedSettings": {"properties": {"registrationInfoToken": TOKEN}}}}, []),
    ({"properties": {"source": {"script": ["# x", "$t='%s'" % TOKEN]}}}, ["properties.source.script[1]"]),
    ({"tags": {"note": "nothing here"}}, []),
])
def test_leaks_found_outside_secret_fields(body, leaked_at):
    registry = SecretRegistry()
    registry.add(TOKEN, "registration token")
    assert [path for path, _label in registry.leaks(body)] == leaked_at


def test_secrets_learned_from_protected_settings_only_by_key():
    registry = SecretRegistry()
    registry.learn_from_body({"properties": {"protectedSettings": {
        "Password": "Dom@inJoin-Passw0rd", "properties": {"registrationInfoToken": TOKEN},
        "hostPoolName": "hp-demo-pooled"}}}, "ext")
    assert len(registry) == 2
    assert registry.leaks({"tags": {"pool": "hp-demo-pooled"}}) == []
    assert registry.leaks({"tags": {"pw": "Dom@inJoin-Passw0rd"}})[0][0] == "tags.pw"


def test_fragments_of_long_secrets_are_leaks():
    long_token = TOKEN * 6
    registry = SecretRegistry()
    registry.add(long_token, "registration token")
    assert registry.leaks({"tags": {"part": long_token[37:37 + 60]}})[0][0] == "tags.part"
    assert registry.leaks({"tags": {"part": long_token[37:37 + 30]}}) == []


def test_short_values_are_not_tracked():
    registry = SecretRegistry()
    registry.add("abc", "short")
    assert len(registry) == 0


@pytest.mark.parametrize("value, floor", [("2", 2), (3, 3), (" 1 ", 1), ("-1", None), ("x", None),
                                          (None, None), (True, None)])
def test_parse_floor(value, floor):
    assert parse_floor(value) == floor


def test_original_tag_is_case_insensitive_on_key_and_value():
    assert tags_mark_original({"GoldenImage.Role": "Original"})
    assert not tags_mark_original({"goldenimage.role": "clone"})
    assert not tags_mark_original(None)
