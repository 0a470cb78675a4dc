# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Azure Resource Manager ids (parse, build, compare) and Azure name rules."""

from __future__ import annotations

import re


def parse_resource_id(resource_id):
    """Split an ARM id into its parts.

    Returns a dict with ``subscription_id``, ``resource_group`` (None for subscription-level
    ids), ``namespace`` (e.g. ``Microsoft.Compute``), ``types`` and ``names`` (one entry per
    level, ``["galleries", "images", "versions"]``), ``type`` (the types joined by ``/``),
    ``name`` (the last name) and ``parent`` (the id one level up, or None).
    Raises ``ValueError`` when the string is not an ARM id.
    """
    if not isinstance(resource_id, str) or not resource_id.startswith("/"):
        raise ValueError("Not an Azure resource id (expected '/subscriptions/<id>/...'): %r" % (resource_id,))
    parts = resource_id.strip("/").split("/")
    if any(part == "" for part in parts) or len(parts) < 2 or parts[0].lower() != "subscriptions":
        raise ValueError("Not an Azure resource id (expected '/subscriptions/<id>/...'): %r" % (resource_id,))
    out = {
        "id": "/" + "/".join(parts),
        "subscription_id": parts[1],
        "resource_group": None,
        "namespace": None,
        "types": [],
        "names": [],
        "type": None,
        "name": None,
        "parent": None,
    }
    rest = parts[2:]
    if rest and rest[0].lower() == "resourcegroups":
        if len(rest) < 2:
            raise ValueError("Resource id ends after 'resourceGroups' without a name: %r" % (resource_id,))
        out["resource_group"] = rest[1]
        rest = rest[2:]
    if rest:
        if rest[0].lower() != "providers" or len(rest) < 4:
            raise ValueError("Resource id needs 'providers/<namespace>/<type>/<name>': %r" % (resource_id,))
        out["namespace"] = rest[1]
        pairs = rest[2:]
        if len(pairs) % 2:
            raise ValueError("Resource id has a type without a name at the end: %r" % (resource_id,))
        out["types"] = pairs[0::2]
        out["names"] = pairs[1::2]
        out["type"] = "/".join(out["types"])
        out["name"] = out["names"][-1]
        out["parent"] = "/" + "/".join(parts[:-2]) if len(pairs) > 2 else None
    return out


def resource_id(subscription_id, resource_group=None, namespace=None, *levels):
    """Build an ARM id; ``levels`` alternate type and name: ``"galleries", "g1", "images", "win11"``."""
    if not subscription_id:
        raise ValueError("subscription_id is required to build a resource id")
    parts = ["", "subscriptions", subscription_id]
    if resource_group:
        parts += ["resourceGroups", resource_group]
    if namespace:
        if not levels or len(levels) % 2:
            raise ValueError("resource_id needs type/name pairs after the namespace, got %r" % (levels,))
        parts += ["providers", namespace] + list(levels)
    elif levels:
        raise ValueError("resource_id needs a namespace before type/name pairs")
    if any(not part for part in parts[1:]):
        raise ValueError("resource_id parts must not be empty: %r" % (parts[1:],))
    return "/".join(parts)


def same_id(left, right):
    """ARM ids compare case-insensitively (Azure returns resource group names in any case)."""
    if left is None or right is None:
        return left is right
    return left.strip("/").lower() == right.strip("/").lower()


# kind -> (option name used in messages, regex, min length, max length, rule in words)
_NAME_RULES = {
    "resource_group": (
        "resource_group", r"^[-\w.()]*[-\w()]$", 1, 90,
        "letters, digits, '_', '-', '.', '(' and ')', not ending with '.'"),
    "vm": (
        "name", r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$", 1, 64,
        "letters, digits, '_', '.' and '-', starting with a letter or digit, not ending with '.' or '-'"),
    "computer_name": (
        "computer_name", r"^(?![0-9]+$)[A-Za-z0-9][A-Za-z0-9-]*$", 1, 15,
        "letters, digits and '-', starting with a letter or digit, not only digits (Windows computer name)"),
    "disk": (
        "name", r"^[A-Za-z0-9](?:[\w.-]*\w)?$", 1, 80,
        "letters, digits, '_', '.' and '-', starting with a letter or digit, ending with a letter, digit or '_'"),
    "snapshot": (
        "name", r"^[A-Za-z0-9](?:[\w.-]*\w)?$", 1, 80,
        "letters, digits, '_', '.' and '-', starting with a letter or digit, ending with a letter, digit or '_'"),
    "nic": (
        "name", r"^[A-Za-z0-9](?:[\w.-]*\w)?$", 1, 80,
        "letters, digits, '_', '.' and '-', starting with a letter or digit, ending with a letter, digit or '_'"),
    "restore_point": (
        "name", r"^[A-Za-z0-9](?:[\w.-]*\w)?$", 1, 80,
        "letters, digits, '_', '.' and '-', starting with a letter or digit, ending with a letter, digit or '_'"),
    "gallery": (
        "gallery", r"^[A-Za-z0-9](?:[A-Za-z0-9_.]*[A-Za-z0-9])?$", 1, 80,
        "letters, digits, '_' and '.', starting and ending with a letter or digit"),
    "image_definition": (
        "image", r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$", 1, 80,
        "letters, digits, '_', '-' and '.', starting and ending with a letter or digit"),
    "image_version": (
        "version", r"^[0-9]+\.[0-9]+\.[0-9]+$", 5, 32,
        "three numbers 'Major.Minor.Patch' such as '1.2.0', each between 0 and 2147483647"),
    "host_pool": (
        "host_pool", r"^[A-Za-z0-9@.\-_ ]*$", 3, 64,
        "letters, digits, '@', '.', '-', '_' and spaces"),
    "session_host": (
        "name", r"^[A-Za-z0-9@.\-_ ]*$", 3, 48,
        "letters, digits, '@', '.', '-', '_' and spaces"),
    "marker": (
        "marker", r"^[a-z][a-z0-9_-]*$", 1, 32,
        "lower-case letters, digits, '-' and '_', starting with a letter (for example 'pilot' or 'prod')"),
    "tag_key": (
        "tags", r"^[^<>%&\\?/]*$", 1, 512,
        "any characters except '<', '>', '%', '&', '\\', '?' and '/'"),
}

NAME_KINDS = tuple(sorted(_NAME_RULES))


def validate_name(kind, value, option=None):
    """Return ``value`` when it is a valid Azure name of ``kind``, else raise ``ValueError``.

    The message names the option (``option`` or the kind's usual option) and the rule.
    """
    if kind not in _NAME_RULES:
        raise ValueError("Unknown name kind %r; known kinds: %s" % (kind, ", ".join(NAME_KINDS)))
    default_option, pattern, min_len, max_len, rule = _NAME_RULES[kind]
    option = option or default_option
    label = kind.replace("_", " ")
    if not isinstance(value, str) or not value:
        raise ValueError("Option '%s' needs a %s name (%d-%d characters: %s), got %r."
                         % (option, label, min_len, max_len, rule, value))
    if not min_len <= len(value) <= max_len:
        raise ValueError("Option '%s': %s name %r has %d characters; allowed are %d-%d (%s)."
                         % (option, label, value, len(value), min_len, max_len, rule))
    # fullmatch: with re.match, '$' also matches before a trailing newline ('prod\n' passed)
    if not re.fullmatch(pattern, value):
        raise ValueError("Option '%s': %s name %r is not valid; allowed are %s (%d-%d characters)."
                         % (option, label, value, rule, min_len, max_len))
    if kind == "image_version" and any(int(part) > 2147483647 for part in value.split(".")):
        raise ValueError("Option '%s': image version %r has a part above 2147483647." % (option, value))
    return value
