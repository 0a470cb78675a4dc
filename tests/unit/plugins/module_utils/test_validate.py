"""Azure's and Windows' input rules (_validate): table tests, one table per helper."""

from __future__ import annotations

import pytest

from ansible_collections.goldenimage.avd.plugins.module_utils import _validate as v


@pytest.mark.parametrize("name", ["avdadmin", "contosoadmin", "a.b", "svc-admin_01", "x" * 20, "Administrator2",
                                  "adminx", "ROOT1"])
def test_admin_username_accepted(name):
    assert v.check_admin_username(name) == name


@pytest.mark.parametrize("name, words", [
    ("", "needs an administrator name"),
    ("   ", "needs an administrator name"),
    (None, "needs an administrator name"),
    ("x" * 21, "has 21 characters"),
    ("avdadmin.", "ends with '.'"),
    ("avd/admin", "character Windows refuses"),
    ("avd@admin", "character Windows refuses"),
    ('a"b', "character Windows refuses"),
    ("tab\tname", "character Windows refuses"),
    ("administrator", "does not allow"),
    ("Admin", "does not allow"),
    ("USER1", "does not allow"),
    ("test", "does not allow"),
    ("guest", "does not allow"),
    ("root", "does not allow"),
    ("support_388945a0", "does not allow"),
    ("1", "does not allow"),
])
def test_admin_username_refused_names_option_and_rule(name, words):
    with pytest.raises(ValueError) as error:
        v.check_admin_username(name, option="session_host_rollout_admin_username")
    message = str(error.value)
    assert "'session_host_rollout_admin_username'" in message and words in message
    assert "1-20 characters" in message


@pytest.mark.parametrize("password", ["Rollout-Test-Pa55!", "abcdefghijK1", "ABCDEFGHIJ1!", "abcdefghij!!X",
                                      "x" * 100 + "A1!", "Pässwort-Lang1"])
def test_password_accepted(password):
    assert v.check_admin_password(password) == password


@pytest.mark.parametrize("password, words", [
    ("", "it is empty"),
    (None, "it is empty"),
    ("Short-Pa55", "it has 10 characters"),
    ("A1!" + "x" * 121, "it has 124 characters"),
    ("abcdefghijklmn", "only 1 of the 4"),
    ("abcdefghijklm1", "only 2 of the 4"),
    ("Abcdefghijk1\x07", "control character"),
])
def test_password_refused_without_echo(password, words):
    with pytest.raises(ValueError) as error:
        v.check_admin_password(password)
    message = str(error.value)
    assert "Option 'admin_password'" in message and words in message and "12 to 123 characters" in message
    if password:
        assert password not in message


def test_disallowed_passwords_are_refused_whatever_their_case():
    # Azure's disallowed passwords are all shorter than 12 characters; the rule stays for any longer entry
    for password in v.DISALLOWED_PASSWORDS:
        assert v.password_problem(password) is not None
    assert v.password_problem("P@ssw0rd") == "it has 8 characters"


@pytest.mark.parametrize("name", ["avd-demo-3", "a", "HOST1", "x" * 15, "1a"])
def test_computer_name_accepted(name):
    assert v.check_computer_name(name) == name


@pytest.mark.parametrize("name, words", [
    ("x" * 16, "has 16 characters"),
    ("12345", "not valid"),
    ("avd_demo", "not valid"),
    ("avd.demo", "not valid"),
    ("-avd", "not valid"),
    ("", "needs a computer name"),
])
def test_computer_name_refused(name, words):
    with pytest.raises(ValueError) as error:
        v.check_computer_name(name, option="names")
    assert "Option 'names'" in str(error.value) and words in str(error.value)
    assert "Windows computer name" in str(error.value)


def test_tags_accepted_and_values_made_strings():
    expected = {"owner": "team-a", "cost": "42", "empty": ""}
    assert v.check_tags({"owner": "team-a", "cost": 42, "empty": None}) == expected
    assert v.check_tags(None) == {}
    assert v.check_tags({"k%d" % n: "v" for n in range(49)}, added=1)


@pytest.mark.parametrize("tags, added, words", [
    ({"k%d" % n: "v" for n in range(51)}, 0, "has 51 tags"),
    ({"k%d" % n: "v" for n in range(49)}, 2, "the collection adds 2"),
    ({"goldenimage.role": "x"}, 0, "reserved"),
    ({"GoldenImage.x": "x"}, 0, "reserved"),
    ({"a/b": "x"}, 0, "not valid"),
    ({"a<b": "x"}, 0, "not valid"),
    ({"a?": "x"}, 0, "not valid"),
    ({"k" * 513: "x"}, 0, "has 513 characters"),
    ({"k": "v" * 257}, 0, "has 257 characters"),
    ({"k": ["list"]}, 0, "must be a string"),
    ("text", 0, "must be a dictionary"),
])
def test_tags_refused(tags, added, words):
    with pytest.raises(ValueError) as error:
        v.check_tags(tags, added=added)
    assert "Option 'tags'" in str(error.value) and words in str(error.value)


@pytest.mark.parametrize("updates, expected", [
    ([], []),
    (None, []),
    (["KB5034441", "kb5044284", " KB1 "], ["KB5034441", "KB5044284", "KB1"]),
    (["0B2D8F9E-1C7A-4A3E-9F51-6D2E8C4B7A10"], ["0b2d8f9e-1c7a-4a3e-9f51-6d2e8c4b7a10"]),
    (["{0b2d8f9e-1c7a-4a3e-9f51-6d2e8c4b7a10}"], ["0b2d8f9e-1c7a-4a3e-9f51-6d2e8c4b7a10"]),
])
def test_update_ids_accepted(updates, expected):
    assert v.check_update_ids(updates) == expected


@pytest.mark.parametrize("value", ["", "5034441", "KB", "KB5034441x", "KB1,KB2", "KB 5034441", "Q5034441",
                                   "0b2d8f9e-1c7a-4a3e-9f51", "0b2d8f9e1c7a4a3e9f516d2e8c4b7a10-", "K" * 33,
                                   "KB12345678901", 5034441])
def test_update_ids_refused_name_option_and_forms(value):
    with pytest.raises(ValueError) as error:
        v.check_update_ids(["KB1", value])
    message = str(error.value)
    assert "Option 'updates' holds" in message and "KB5034441" in message and "GUID" in message
