"""AVD list responses: paging (``pageSize``, ``initialSkip``, ``isDescending``) and the OData
``$filter`` of user-session lists."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional
from urllib.parse import urlencode

from .common import bad_request

_FILTER_CLAUSE = re.compile(r"^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)


def _page_window(req, default_size: int) -> tuple:
    """(pageSize, initialSkip, isDescending) of a list request."""
    try:
        size = int(req.query.get("pageSize") or default_size)
        skip = int(req.query.get("initialSkip") or 0)
    except ValueError:
        raise bad_request("pageSize and initialSkip must be integers.") from None
    if size <= 0 or skip < 0:
        raise bad_request("pageSize must be > 0 and initialSkip >= 0.")
    descending = str(req.query.get("isDescending", "false")).lower() == "true"
    return size, skip, descending


def page(sim, req, items: List[Any], extra_query: Optional[dict] = None, render=None) -> dict:
    """AVD paging: ``pageSize``, ``initialSkip``, ``isDescending``; ``nextLink`` carries them.
    With ``render``, ``items`` are model objects and only the page's are rendered."""
    size, skip, descending = _page_window(req, sim.page_size)
    if descending:
        items = list(reversed(items))
    chunk = items[skip:skip + size]
    if render is not None:
        chunk = [render(item) for item in chunk]
    body: Dict[str, Any] = {"value": chunk, "nextLink": None}
    if skip + size < len(items):
        query = {"pageSize": size, "isDescending": str(descending).lower(), "initialSkip": skip + size}
        query.update(extra_query or {})
        query["api-version"] = req.api_version
        body["nextLink"] = "%s%s?%s" % (sim.base_url, req.path, urlencode(query))
    return body


def parse_filter(text: Optional[str]):
    """OData ``$filter`` on userPrincipalName / sessionState with ``eq`` and ``and``."""
    if not text:
        return []
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _FILTER_CLAUSE.match(part)
        if not match or match.group(1).lower() not in ("userprincipalname", "sessionstate"):
            raise bad_request("The filter '%s' is invalid. Valid properties for filtering are "
                              "userprincipalname and sessionstate, compared with eq." % text)
        clauses.append((match.group(1).lower(), match.group(2).replace("''", "'").lower()))
    return clauses


def matches(rendered: dict, clauses) -> bool:
    props = rendered["properties"]
    values = {"userprincipalname": props["userPrincipalName"], "sessionstate": props["sessionState"]}
    return all(values[key].lower() == want for key, want in clauses)
