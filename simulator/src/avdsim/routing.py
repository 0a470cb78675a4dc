"""Route registration for providers.

A provider module declares its operations with the ``route`` decorator::

    from avdsim.routing import route

    @route("GET", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
                  "/providers/Microsoft.Compute/virtualMachines/{vmName}")
    def get_vm(sim, req):
        ...

Templates are matched case-insensitively (ARM paths are), one ``{param}`` per segment.
When two templates match, the one with more literal segments wins. ``kind`` is the
throttling bucket (``read``/``write``/``delete``; by default from the method).
``auth=False`` skips the bearer check, ``api_version=False`` skips the api-version check
(identity endpoints only); the api-version must be one of the resource type's, derived from the
template (``apiversions.resource_type``). ``policy`` names a Compute per-operation throttling
policy (``PutVM``, ``UpdateVM``, ``DeleteVM``, ``LowCostGet``, ``HighCostGet``, ``GetOperation``,
the disk and gallery ones such as ``CreateUpdateDisks`` or ``GetGalleryImageVersion``; see
``throttle.COMPUTE_POLICIES``). The key in ``metrics.by_operation`` is ``"<METHOD> <template>"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_KIND_BY_METHOD = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write",
                   "POST": "write", "DELETE": "delete"}


@dataclass
class Route:
    method: str
    template: str
    handler: object
    kind: str
    auth: bool
    api_version: bool
    regex: re.Pattern = field(repr=False, default=None)
    policy: str | None = None
    literal_segments: int = 0

    @property
    def operation(self) -> str:
        return f"{self.method} {self.template}"


ROUTES: list[Route] = []


def _compile(template: str) -> tuple[re.Pattern, int]:
    parts = []
    literals = 0
    for seg in template.strip("/").split("/"):
        m = re.fullmatch(r"\{(\w+)\}", seg)
        if m:
            parts.append(f"(?P<{m.group(1)}>[^/]+)")
        else:
            parts.append(re.escape(seg))
            literals += 1
    return re.compile("^/" + "/".join(parts) + "/?$", re.IGNORECASE), literals


def route(method: str, template: str, kind: str | None = None, auth: bool = True,
          api_version: bool = True, policy: str | None = None):
    method = method.upper()

    def deco(fn):
        regex, literals = _compile(template)
        for r in ROUTES:
            if r.method == method and r.template.lower() == template.lower():
                raise ValueError(f"route registered twice: {method} {template}")
        ROUTES.append(Route(method, template, fn, kind or _KIND_BY_METHOD[method], auth,
                            api_version, regex=regex, literal_segments=literals,
                            policy=policy))
        return fn

    return deco


def match(method: str, path: str):
    """Return (route, params) or (None, methods_allowed_for_path)."""
    best = None
    allowed = set()
    for r in ROUTES:
        m = r.regex.match(path)
        if not m:
            continue
        if r.method != method:
            allowed.add(r.method)
            continue
        if best is None or r.literal_segments > best[0].literal_segments:
            best = (r, m.groupdict())
    if best:
        return best
    return None, allowed
