# -*- coding: utf-8 -*-
# Copyright: (c) 2026, goldenimage.avd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Internal use only: this file is not a public API of the collection and may change without notice.

"""Azure Resource Manager ids (parse, build, compare) and Azure name rules."""

from __future__ import annotations

import re

try:
    from azure.mgmt.core.tools import is_valid_resource_id
    from azure.mgmt.core.tools import parse_resource_id as _arm_parse
    from azure.mgmt.core.tools import resource_id as _arm_build
except ImportError:  # the module layer reports the missing library through missing_required_lib
    is_valid_resource_id = _arm_parse = _arm_build = None

# Gallery image version names: three 32-bit integers 'Major.Minor.Patch'. The one home of the rule:
# validate_name("image_version", ...) below and _versions (parse, sort, next) read it from here.
VERSION_RE = re.compile(r"^([0-9]+)\.([0-9]+)\.([0-9]+)$")
VERSION_PART_MAX = 2147483647

_NOT_AN_ID = "Not an Azure resource id (expected '/subscriptions/<id>/...'): %r"


def parse_resource_id(resource_id):
    """Split an ARM id into its parts (``azure.mgmt.core.tools.parse_resource_id``, in our words).

    Returns a dict with ``subscription_id``, ``resource_group`` (None for subscription-level
    ids), ``namespace`` (e.g. ``Microsoft.Compute``), ``types`` and ``names`` (one entry per
    level, ``["galleries", "images", "versions"]``), ``type`` (the types joined by ``/``),
    ``name`` (the last name) and ``parent`` (the id one level up, or None).
    Raises ``ValueError`` when the string is not an ARM id.
    """
    text = resource_id.strip("/") if isinstance(resource_id, str) and resource_id.startswith("/") else ""
    parts = text.split("/")
    if len(parts) < 2 or "" in parts or parts[0].lower() != "subscriptions":
        raise ValueError(_NOT_AN_ID % (resource_id,))
    canonical = "/" + text
    # is_valid_resource_id takes "/subscriptions/<id>" and ".../resourceGroups/<name>" too, and
    # refuses a dangling 'resourceGroups', a missing provider and a type without a name
    if not is_valid_resource_id(canonical):
        raise ValueError("Resource id needs '/subscriptions/<id>[/resourceGroups/<name>]"
                         "[/providers/<namespace>/<type>/<name>...]': %r" % (resource_id,))
    arm = _arm_parse(canonical)
    types = [arm[key] for key in ("type",) if arm.get(key)]
    names = [arm[key] for key in ("name",) if arm.get(key)]
    for level in range(1, arm.get("last_child_num", 0) + 1):
        types.append(arm["child_type_%d" % level])
        names.append(arm["child_name_%d" % level])
    return {
        "id": canonical,
        "subscription_id": arm["subscription"],
        "resource_group": arm.get("resource_group"),
        "namespace": arm.get("namespace"),
        "types": types,
        "names": names,
        "type": "/".join(types) or None,
        "name": names[-1] if names else None,
        "parent": "/" + "/".join(parts[:-2]) if len(types) > 1 else None,
    }


def resource_id(subscription_id, resource_group=None, namespace=None, *levels):
    """Build an ARM id; ``levels`` alternate type and name: ``"galleries", "g1", "images", "win11"``."""
    if not subscription_id:
        raise ValueError("subscription_id is required to build a resource id")
    if namespace and (not levels or len(levels) % 2):
        raise ValueError("resource_id needs type/name pairs after the namespace, got %r" % (levels,))
    if levels and not namespace:
        raise ValueError("resource_id needs a namespace before type/name pairs")
    if any(not part for part in levels):
        raise ValueError("resource_id parts must not be empty: %r" % (levels,))
    kwargs = {"subscription": subscription_id}
    if resource_group:
        kwargs["resource_group"] = resource_group
    if namespace:
        kwargs.update(namespace=namespace, type=levels[0], name=levels[1])
        for level in range(1, len(levels) // 2):
            kwargs["child_type_%d" % level] = levels[2 * level]
            kwargs["child_name_%d" % level] = levels[2 * level + 1]
    return _arm_build(**kwargs)


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
        "version", VERSION_RE.pattern, 5, 32,
        "three numbers 'Major.Minor.Patch' such as '1.2.0', each between 0 and %d" % VERSION_PART_MAX),
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
    if kind == "image_version" and any(int(part) > VERSION_PART_MAX for part in value.split(".")):
        raise ValueError("Option '%s': image version %r has a part above %d." % (option, value, VERSION_PART_MAX))
    return value
