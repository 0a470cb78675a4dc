"""``$filter`` of the generic resource list (Resources_List, Resources_ListByResourceGroup),
the forms ARM documents in the parameter's description (azure-rest-api-specs
specification/resources/resource-manager/Microsoft.Resources/stable/2024-11-01/resources.json,
https://learn.microsoft.com/rest/api/resources/resources/list):

- ``eq`` / ``ne`` on location, resourceType, name, resourceGroup, identity,
  identity/principalId, plan, plan/publisher, plan/product, plan/name, plan/version,
  plan/promotionCode, joined with ``and``;
- ``substringof('value', name|resourceGroup)``, linked with ``and``/``or``, and combinable
  with ``resourceType`` (``and``);
- ``tagName eq 'tag1'`` alone or ``tagName eq 'tag1' and tagValue eq 'Value1'`` (the tags are
  then not returned).

Anything else (other properties or operators, parentheses, tags combined with other
properties) is refused with 400 ``InvalidFilterInQueryString`` rather than ignored: an
ignored filter answers with everything, which reads as a result."""

from __future__ import annotations

import re

from .errors import ArmError

_PROPS = {"location": ("location",), "resourcetype": ("type",), "name": ("name",),
          "resourcegroup": None, "identity": ("identity", "type"),
          "identity/principalid": ("identity", "principalId"), "plan": ("plan", "name"),
          "plan/publisher": ("plan", "publisher"), "plan/product": ("plan", "product"),
          "plan/name": ("plan", "name"), "plan/version": ("plan", "version"),
          "plan/promotioncode": ("plan", "promotionCode")}
_STR = r"'((?:[^']|'')*)'"
_CMP = re.compile(r"^\s*([A-Za-z/]+)\s+(eq|ne)\s+" + _STR + r"\s*$", re.IGNORECASE)
_SUBSTR = re.compile(r"^\s*substringof\(\s*" + _STR + r"\s*,\s*([A-Za-z]+)\s*\)\s*$",
                     re.IGNORECASE)
_JOIN = re.compile(r"\s+(and|or)\s+", re.IGNORECASE)


def invalid_filter(text: str, why: str) -> ArmError:
    return ArmError(400, "InvalidFilterInQueryString",
                    f"Invalid $filter '{text}' specified in the query string: {why}")


def _split(text: str) -> tuple[list[str], set[str]]:
    """Clauses and the joining operators, outside string literals."""
    parts, ops, last, quoted = [], set(), 0, False
    i = 0
    while i < len(text):
        if text[i] == "'":
            quoted = not quoted
        elif not quoted:
            m = _JOIN.match(text, i)
            if m and i > 0 and text[i - 1] != "(":
                parts.append(text[last:i])
                ops.add(m.group(1).lower())
                last = i = m.end()
                continue
        i += 1
    parts.append(text[last:])
    return parts, ops


def _clause(text: str, raw: str) -> tuple:
    """('cmp', prop, op, value) | ('substr', prop, value) | ('tag', 'tagname'|'tagvalue', v)."""
    m = _SUBSTR.match(raw)
    if m:
        prop = m.group(2).lower()
        if prop not in ("name", "resourcegroup"):
            raise invalid_filter(text, f"substringof is supported on name and resourceGroup, "
                                       f"not '{m.group(2)}'.")
        return ("substr", prop, m.group(1).replace("''", "'"))
    m = _CMP.match(raw)
    if not m:
        raise invalid_filter(text, f"the expression '{raw.strip()}' is not supported.")
    prop, op, value = m.group(1).lower(), m.group(2).lower(), m.group(3).replace("''", "'")
    if prop in ("tagname", "tagvalue"):
        if op != "eq":
            raise invalid_filter(text, "tag filters support only 'eq'.")
        return ("tag", prop, value)
    if prop not in _PROPS:
        raise invalid_filter(text, f"the property '{m.group(1)}' cannot be used in a filter.")
    return ("cmp", prop, op, value)


def _check_combination(text: str, clauses: list, ops: set) -> None:
    kinds = [c[0] for c in clauses]
    if "tag" in kinds:
        tags = [c[1] for c in clauses]
        if tags not in (["tagname"], ["tagname", "tagvalue"]) or "or" in ops:
            raise invalid_filter(text, "a tag filter is 'tagName eq' alone or followed by "
                                       "'and tagValue eq', and cannot be combined with other "
                                       "properties.")
    if "or" in ops and any(k != "substr" for k in kinds):
        raise invalid_filter(text, "'or' links substringof expressions only.")


def parse(text: str | None):
    """``(predicate(resource) -> bool, hide_tags)`` for a ``$filter`` (None: no filter)."""
    if text is None or not text.strip():
        return (lambda _res: True), False
    if "(" in text.replace("substringof(", "") or ")" in re.sub(
            r"substringof\([^)]*\)", "", text, flags=re.IGNORECASE):
        raise invalid_filter(text, "grouping with parentheses is not supported.")
    parts, ops = _split(text)
    clauses = [_clause(text, p) for p in parts]
    _check_combination(text, clauses, ops)
    if clauses[0][0] == "tag":  # the tag forms: the rows' tags are not returned
        name = clauses[0][2].lower()
        value = clauses[1][2] if len(clauses) > 1 else None
        return (lambda res: any(k.lower() == name and (value is None or v == value)
                                for k, v in (res.get("tags") or {}).items())), True
    if "or" in ops:
        return (lambda res: any(_match(c, res) for c in clauses)), False
    return (lambda res: all(_match(c, res) for c in clauses)), False


def _value(res: dict, prop: str) -> str:
    if prop == "resourcegroup":
        segs = res["id"].split("/")
        return segs[4] if len(segs) > 4 and segs[3].lower() == "resourcegroups" else ""
    cur = res
    for key in _PROPS[prop]:
        cur = cur.get(key) if isinstance(cur, dict) else None
    return "" if cur is None else str(cur)


def _match(clause: tuple, res: dict) -> bool:
    kind = clause[0]
    if kind == "substr":
        return clause[2].lower() in _value(res, clause[1]).lower()
    _kind, prop, op, value = clause
    equal = _value(res, prop).replace(" ", "").lower() == value.replace(" ", "").lower() \
        if prop == "location" else _value(res, prop).lower() == value.lower()
    return equal if op == "eq" else not equal
