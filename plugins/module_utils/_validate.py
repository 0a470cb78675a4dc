# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Input rules of Azure and Windows, checked before anything is written: one helper per thing.

Each helper raises ``ValueError`` naming the option and what is allowed (never echoing a secret),
or returns the value (normalized where said). Sources:

- admin user name and password: the ``OSProfile.adminUsername`` / ``adminPassword`` descriptions in
  Microsoft's Compute OpenAPI definition (``Microsoft.Compute/Compute/stable/2026-04-01/ComputeRP.json``)
  and https://learn.microsoft.com/azure/virtual-machines/windows/faq ("What are the username
  requirements when creating a VM?", "What are the password requirements when creating a VM?").
  The FAQ asks 12 characters for a Windows password (the API takes 8): the collection follows the FAQ.
- computer names: ``OSProfile.computerName`` in the same definition (Windows: at most 15 characters)
  and the Windows NetBIOS rules (not only digits; letters, digits and hyphens).
- tags: https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations
  (50 tags per resource, names up to 512 and values up to 256 characters, no ``<>%&\\?/`` in names).
- Windows update ids: a KB article number (``KB5034441``) or the update's GUID
  (``IUpdateIdentity.UpdateID``, https://learn.microsoft.com/windows/win32/api/wuapi/nf-wuapi-iupdateidentity-get_updateid).
"""

from __future__ import annotations

import re

from ._ids import validate_name

ADMIN_USERNAME_MAX = 20
# OSProfile.adminUsername "Disallowed values" (ComputeRP.json), compared without regard to case
DISALLOWED_ADMIN_USERNAMES = frozenset((
    "administrator", "admin", "user", "user1", "test", "user2", "test1", "user3", "admin1", "1", "123", "a",
    "actuser", "adm", "admin2", "aspnet", "backup", "console", "david", "guest", "john", "owner", "root",
    "server", "sql", "support", "support_388945a0", "sys", "test2", "test3", "user4", "user5",
))
# characters a Windows account name cannot hold (and '@', which Azure's portal refuses as well)
_USERNAME_BAD_CHARS = set('"/\\[]:;|=,+*?<>@')

PASSWORD_MIN, PASSWORD_MAX = 12, 123
# OSProfile.adminPassword "Disallowed values" (ComputeRP.json)
DISALLOWED_PASSWORDS = frozenset(value.lower() for value in (
    "abc@123", "P@$$w0rd", "P@ssw0rd", "P@ssword123", "Pa$$word", "pass@word1", "Password!", "Password1",
    "Password22", "iloveyou!",
))
_PASSWORD_RULE = ("%d to %d characters with 3 of: a lower-case letter, an upper-case letter, a digit, a special "
                  "character; no control characters; not one of Azure's disallowed passwords such as "
                  "'P@ssw0rd' or 'Password1'" % (PASSWORD_MIN, PASSWORD_MAX))

TAGS_MAX = 50
TAG_VALUE_MAX = 256

_KB_ID = re.compile(r"^KB[0-9]{1,10}$", re.IGNORECASE)
_GUID = re.compile(r"^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$", re.IGNORECASE)


def _has_control(value):
    return any(ord(char) < 32 or ord(char) == 127 for char in value)


def check_admin_username(value, option="admin_username"):
    """A Windows VM's administrator name as Azure takes it."""
    rule = ("1-%d characters, not ending with '.', none of %s or control characters, and not a name Azure "
            "disallows (administrator, admin, user, user1, test, guest, root, ...)"
            % (ADMIN_USERNAME_MAX, " ".join(sorted(_USERNAME_BAD_CHARS))))
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Option '%s' needs an administrator name (%s)." % (option, rule))
    if len(value) > ADMIN_USERNAME_MAX:
        raise ValueError("Option '%s': %r has %d characters; a Windows administrator name has %s."
                         % (option, value, len(value), rule))
    if value.endswith("."):
        raise ValueError("Option '%s': %r ends with '.'; a Windows administrator name has %s." % (option, value, rule))
    if _has_control(value) or _USERNAME_BAD_CHARS.intersection(value):
        raise ValueError("Option '%s': %r holds a character Windows refuses in account names; allowed are %s."
                         % (option, value, rule))
    if value.lower() in DISALLOWED_ADMIN_USERNAMES:
        raise ValueError("Option '%s': Azure does not allow %r as the administrator name; choose another (%s)."
                         % (option, value, rule))
    return value


def password_problem(value):
    """What is wrong with ``value`` as a Windows VM admin password, in words, or None. Never quotes it."""
    if not isinstance(value, str) or not value:
        return "it is empty"
    if not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
        return "it has %d characters" % len(value)
    if _has_control(value):
        return "it holds a control character"
    classes = sum((bool(re.search(r"[a-z]", value)), bool(re.search(r"[A-Z]", value)),
                   bool(re.search(r"[0-9]", value)), bool(re.search(r"[\W_]", value))))
    if classes < 3:
        return "it has only %d of the 4 kinds of characters" % classes
    if value.lower() in DISALLOWED_PASSWORDS:
        return "Azure disallows it"
    return None


def check_admin_password(value, option="admin_password"):
    """A Windows VM's administrator password as Azure takes it; the message never holds the password."""
    problem = password_problem(value)
    if problem:
        raise ValueError("Option '%s' is not a valid Windows VM administrator password (%s); it must have %s."
                         % (option, problem, _PASSWORD_RULE))
    return value


def check_computer_name(value, option="names"):
    """A Windows computer name (also the name of a session host VM)."""
    return validate_name("computer_name", value, option=option)


def check_tags(tags, option="tags", reserved_prefix="goldenimage.", added=0):
    """User tags as Azure takes them; returns them with string values.

    ``added``: how many tags the collection writes next to them (the limit of 50 is per resource).
    Keys with ``reserved_prefix`` are the collection's own and refused.
    """
    tags = tags or {}
    if not isinstance(tags, dict):
        raise ValueError("Option '%s' must be a dictionary of tag names and values." % option)
    if len(tags) + added > TAGS_MAX:
        raise ValueError("Option '%s' has %d tags%s; Azure allows at most %d tags on a resource."
                         % (option, len(tags), " (and the collection adds %d)" % added if added else "", TAGS_MAX))
    out = {}
    for key, value in tags.items():
        if reserved_prefix and str(key).lower().startswith(reserved_prefix):
            raise ValueError("Option '%s': tag %r uses the prefix %r, reserved for the collection's own tags."
                             % (option, key, reserved_prefix))
        validate_name("tag_key", key, option=option)
        if isinstance(value, (dict, list)):
            raise ValueError("Option '%s': the value of tag %r must be a string, not a %s."
                             % (option, key, type(value).__name__))
        text = "" if value is None else str(value)
        if len(text) > TAG_VALUE_MAX:
            raise ValueError("Option '%s': the value of tag %r has %d characters; Azure allows at most %d."
                             % (option, key, len(text), TAG_VALUE_MAX))
        out[key] = text
    return out


def check_update_ids(updates, option="updates"):
    """Windows update ids: KB article numbers (``KB5034441``) or update GUIDs; returns them normalized
    (``KB`` upper case, GUIDs lower case without braces)."""
    out = []
    for entry in updates or []:
        text = entry.strip() if isinstance(entry, str) else entry
        if isinstance(text, str) and _KB_ID.match(text):
            out.append(text.upper())
        elif isinstance(text, str) and _GUID.match(text):
            out.append(text.strip("{}").lower())
        else:
            raise ValueError("Option '%s' holds %r; give KB article numbers such as 'KB5034441' ('KB' and its "
                             "digits) or Windows Update GUIDs such as '0b2d8f9e-1c7a-4a3e-9f51-6d2e8c4b7a10'."
                             % (option, entry))
    return out
