"""The HTTPS front end: request parsing, bearer check, api-version check, throttling,
faults, routing, metrics and the ARM response headers."""

from __future__ import annotations

import ipaddress
import json
import math
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from . import apiversions, ids, request_members, routing
from .clock import http_date, iso
from .errors import ArmError
from .faults import DEFAULT_CODES, retry_after_s
from .pacing import wait_header
from .providers import require_registered
from .throttle import HEADER as RATE_HEADERS, operation_policy


class Response:
    def __init__(self, status: int = 200, body=None, headers: dict | None = None,
                 raw: bytes | None = None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.raw = raw


class CIDict(dict):
    """Query parameters: case-insensitive keys (ARM treats them so)."""

    def __init__(self, pairs):
        super().__init__()
        for k, v in pairs:
            super().__setitem__(k.lower(), v)

    def get(self, key, default=None):
        return super().get(key.lower(), default)

    def __contains__(self, key):
        return super().__contains__(key.lower())

    def __getitem__(self, key):
        return super().__getitem__(key.lower())


class Request:
    def __init__(self, sim, method, url, headers, raw_body):
        self.sim = sim
        self.method = method
        parts = urlsplit(url)
        self.path = unquote(parts.path)
        self.raw_query = parts.query
        self.query = CIDict(parse_qsl(parts.query, keep_blank_values=True))
        self.headers = headers
        self.raw_body = raw_body
        self.params: dict = {}
        self.route = None
        self.template = None
        self.lro_fault = None
        self.claims = None
        self._json = None

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")

    @property
    def subscription_id(self) -> str | None:
        for k, v in self.params.items():
            if k.lower() == "subscriptionid":
                return v
        return None

    def param(self, name: str) -> str:
        for k, v in self.params.items():
            if k.lower() == name.lower():
                return v
        raise KeyError(name)

    def json(self) -> dict:
        if self._json is None:
            if not self.raw_body:
                raise ArmError(400, "InvalidRequestContent",
                               "The request content was invalid and could not be deserialized: "
                               "the request body is empty.")
            try:
                self._json = json.loads(self.raw_body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise ArmError(400, "InvalidRequestContent",
                               f"The request content was invalid and could not be deserialized: "
                               f"'{exc}'.") from None
            if not isinstance(self._json, dict):
                raise ArmError(400, "InvalidRequestContent",
                               "The request content was invalid and could not be deserialized: "
                               "a JSON object is expected.")
        return self._json

    def json_or_empty(self) -> dict:
        return self.json() if self.raw_body else {}

    def url_without_query(self) -> str:
        return self.sim.base_url + self.path


def _retry_after(real_seconds: float) -> dict:
    """The wait of a 429 in real time. Azure's 429 always carries ``Retry-After`` in whole seconds
    ("The response includes a Retry-After value, which specifies the number of seconds your
    application should wait", https://learn.microsoft.com/azure/azure-resource-manager/management/
    request-limits-and-throttling#error-code), so it is always sent: rounded up from a second
    (a client that honours it finds a token), ``0`` under a second, where ``retry-after-ms``
    carries the compressed wait exactly (azure-core reads both). A client that comes back
    earlier than asked keeps its appointment all the same (``pacing``)."""
    if real_seconds >= 1.0:
        return {"Retry-After": str(int(math.ceil(real_seconds)))}
    return {"Retry-After": "0", "retry-after-ms": str(max(5, int(math.ceil(real_seconds * 1000))))}


def _is_loopback(addr: str) -> bool:
    try:
        return ipaddress.ip_address(addr).is_loopback
    except ValueError:
        return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "avdsim"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet unless --verbose
        if getattr(self.server, "verbose", False):
            super().log_message(fmt, *args)

    def date_time_string(self, timestamp=None):
        return http_date(self.server.sim.clock.now())

    def do_GET(self):
        self._handle()

    do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _handle(self):
        """Read the request, answer it (``_dispatch``: the pipeline of stages), record the
        outcome for pacing and the error counts, send it, measure the latency."""
        t0 = time.perf_counter()
        sim = self.server.sim
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        req = Request(sim, self.command, self.path, self.headers, raw)
        resp = self._answer(sim, req)
        _record_outcome(sim, req, resp)
        self._send(req, resp)
        if not req.path.startswith("/_sim/"):
            sim.metrics.latency(time.perf_counter() - t0)

    def _answer(self, sim, req: Request) -> Response:
        """The response: the handler's, an ARM error a stage raised, or a 500 for a bug."""
        try:
            with sim.lock:  # counters, buckets, faults and the store change together
                return self._dispatch(sim, req)
        except ArmError as exc:
            return Response(exc.status, exc.body(), exc.headers)
        except Exception as exc:  # a bug in the simulator: report it as ARM would, loudly
            import traceback
            tb = traceback.format_exc()
            sim.internal_errors.append(tb)
            self.log_error("internal error: %s", tb)
            return Response(500, {"error": {"code": "InternalServerError",
                                            "message": f"avdsim internal error: {exc!r}"}})

    def _dispatch(self, sim, req: Request) -> Response:
        """The request pipeline, top to bottom; a stage answers early by raising ArmError."""
        client = self.client_address
        guard_control_api(sim, req, client)
        find_route(sim, req, client)
        if req.route.auth:  # ARM requests: counted, authenticated, throttled, fault-injected
            for stage in ARM_STAGES:
                stage(sim, req, client)
        return run_handler(sim, req, client)

    def _send(self, req: Request, resp: Response):
        if resp.raw is not None:
            data = resp.raw
            ctype = resp.headers.pop("Content-Type", "application/octet-stream")
        elif resp.body is None:
            data = b""
            ctype = None
        else:
            data = json.dumps(resp.body, separators=(",", ":")).encode()
            ctype = "application/json; charset=utf-8"
        self.send_response(resp.status)
        rid = str(uuid.uuid4())
        corr = req.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Pragma", "no-cache")
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Expires", "-1")
        self.send_header("x-ms-request-id", rid)
        self.send_header("x-ms-correlation-request-id", corr)
        if req.headers.get("x-ms-client-request-id"):
            self.send_header("x-ms-client-request-id", req.headers["x-ms-client-request-id"])
        self.send_header("x-ms-routing-request-id", f"WESTEUROPE:{rid[:8]}")
        self.send_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        self.send_header("X-Content-Type-Options", "nosniff")
        route = req.route
        if route is not None and route.auth and hasattr(req, "rate_remaining"):
            self.send_header(RATE_HEADERS[route.kind], str(req.rate_remaining))
        if getattr(req, "resource_rate", None) and "x-ms-ratelimit-remaining-resource" not in \
                resp.headers:
            self.send_header("x-ms-ratelimit-remaining-resource", req.resource_rate)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and req.method != "HEAD":
            self.wfile.write(data)


# ----- the request pipeline: stages run in this order (``Handler._dispatch``) --------------------
def guard_control_api(sim, req: Request, client) -> None:
    """The control API (``/_sim``) answers on loopback only."""
    if req.path.startswith("/_sim/") or req.path == "/_sim":
        if not _is_loopback(client[0]):
            raise ArmError(403, "Forbidden", "The control API is available on loopback only.")


def find_route(sim, req: Request, client) -> None:
    """The operation of the request (405 for a known path, 404 otherwise)."""
    route, params = routing.match(req.method, req.path)
    if route is None:
        if params:
            raise ArmError(405, "MethodNotAllowed",
                           f"The requested resource does not support http method "
                           f"'{req.method}'.")
        if req.path.lower().startswith("/subscriptions/"):
            ns = req.path.split("/providers/")[-1].split("/")[0] if "/providers/" in \
                req.path else "Microsoft.Resources"
            raise ArmError(404, "InvalidResourceType",
                           f"The resource type could not be found in the namespace '{ns}' "
                           f"for api version '{req.api_version}'. (avdsim does not simulate "
                           f"{req.method} {req.path}.)")
        raise ArmError(404, "NotFound", f"No route for {req.method} {req.path}.")
    req.route = route
    req.params = params
    req.template = route.template


def count_request(sim, req: Request, client) -> None:
    sim.metrics.count(req.route.operation, req.route.kind)


def authenticate(sim, req: Request, client) -> None:
    """The bearer token: present, well-formed, signed by the simulator for the ARM audience."""
    auth = req.headers.get("Authorization")
    www = ('Bearer authorization_uri="%s/%s", error="invalid_token", '
           'error_description="%s"')
    if not auth:
        desc = "The authentication failed because of missing 'Authorization' header."
        raise ArmError(401, "AuthenticationFailed", "Authentication failed. The "
                       "'Authorization' header is missing.",
                       headers={"WWW-Authenticate": www % (sim.base_url,
                                                           sim.identity.tenant_id, desc)})
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ArmError(401, "AuthenticationFailed", "Authentication failed. The "
                       "'Authorization' header is provided in an invalid format.")
    claims, reason = sim.identity.verify(token.strip(), sim.arm_audiences())
    if claims is None:
        raise ArmError(401, "InvalidAuthenticationToken", reason,
                       headers={"WWW-Authenticate": www % (sim.base_url,
                                                           sim.identity.tenant_id, reason)})
    req.claims = claims


def authorize(sim, req: Request, client) -> None:
    """Azure RBAC: the caller's role assignments must allow the route's action at the addressed
    scope, and the linked actions on the resources a write references (avdsim.rbac.enforce);
    403 AuthorizationFailed / LinkedAuthorizationFailed otherwise."""
    from .rbac.enforce import authorize as check
    check(sim, req)


def pace(sim, req: Request, client) -> None:
    """The wait this client kept (if any) moves the clock first: buckets refill, events fall
    due, as they would have while it waited against Azure (avdsim.pacing)."""
    sim.pacer.before(client, req.method, req.path, req.raw_query)


def check_api_version(sim, req: Request, client) -> None:
    """Present, well-formed and one of the resource type's versions (``avdsim.apiversions``:
    the table, its sources and ARM's answers)."""
    if not req.route.api_version:
        return
    if not req.api_version:
        raise ArmError(400, "MissingApiVersionParameter",
                       "The api-version query parameter (?api-version=) is required for "
                       "all requests.")
    rtype = apiversions.resource_type(req.template, req.params)
    apiversions.check(rtype, req.api_version, _request_location(sim, req))


def _request_location(sim, req: Request) -> str:
    """The location ARM names in NoRegisteredProviderFound: the resource group's."""
    try:
        sub, rg = req.subscription_id, req.param("resourceGroupName")
    except KeyError:
        return "global"
    group = sim.store.get(ids.rg_id(sub, rg)) or {}
    return group.get("location", "global")


def throttle_subscription(sim, req: Request, client) -> None:
    """ARM's per-subscription read/write/delete buckets (``x-ms-ratelimit-remaining-*``)."""
    sub, kind = req.subscription_id, req.route.kind
    if not sub:
        return
    ok, wait_sim, remaining = sim.throttle.check(sub, kind)
    req.rate_remaining = remaining
    if not ok:
        sim.metrics.throttled += 1
        raise ArmError(429, "SubscriptionRequestsThrottled",
                       f"Number of '{kind}' requests for subscription '{sub}' "
                       f"actor '{sim.identity.object_id}' exceeded. Please try again "
                       f"after '{int(wait_sim)}' seconds after additional tokens are "
                       "available. Refer to https://aka.ms/arm-throttling",
                       headers={**_retry_after(sim.clock.real_seconds(wait_sim)),
                                **wait_header(wait_sim)})


def throttle_resource_policy(sim, req: Request, client) -> None:
    """Compute's per-operation policies (``x-ms-ratelimit-remaining-resource``): VMs, disks,
    snapshots, galleries, gallery images and versions (``throttle.COMPUTE_POLICIES``)."""
    sub, policy = req.subscription_id, operation_policy(req.route.policy, req.params)
    if not (sub and policy):
        return
    now = sim.now()
    ok, header, blocked = sim.resource_policies.check(sub, policy, now)
    req.resource_rate = header
    if not ok:
        sim.metrics.throttled += 1
        group, seconds, limit, measured, wait_sim = blocked
        detail = json.dumps({"operationGroup": group,
                             "startTime": iso(now - seconds),
                             "endTime": iso(now),
                             "allowedRequestCount": limit,
                             "measuredRequestCount": measured})
        retry = _retry_after(sim.clock.real_seconds(wait_sim))
        raise ArmError(429, "OperationNotAllowed",
                       "The server rejected the request because too many requests "
                       "have been received for this subscription.",
                       headers={**retry, **wait_header(wait_sim),
                                "x-ms-ratelimit-remaining-resource": header},
                       details=[{"code": "TooManyRequests", "target": group,
                                 "message": detail}])


def inject_faults(sim, req: Request, client) -> None:
    """A matching fault rule answers instead of the handler; an ``lro_fail`` rule is kept
    for the long-running operation the handler starts. A rule's ``retry_after`` is simulated
    seconds, sent compressed by the time scale as every wait the simulator asks for; an injected
    429 carries one always, as Azure's do (``faults.retry_after_s``)."""
    fault = sim.faults.match(req.method, req.path, lro=False)
    if fault:
        status = fault["status"]
        code = fault.get("code") or DEFAULT_CODES.get(status, "InternalServerError")
        headers = {}
        wait_sim = retry_after_s(fault)
        if wait_sim is not None:
            headers = {**_retry_after(sim.clock.real_seconds(wait_sim)), **wait_header(wait_sim)}
        if status == 429:
            sim.metrics.throttled += 1
        raise ArmError(status, code, fault.get("message") or
                       f"Injected fault: {code}.", headers=headers)
    req.lro_fault = sim.faults.match(req.method, req.path, lro=True)


def check_subscription(sim, req: Request, client) -> None:
    sub = req.subscription_id
    if sub and sub.lower() not in sim.subscriptions:
        raise ArmError(404, "SubscriptionNotFound",
                       f"The subscription '{sub}' could not be found.")


def check_body_members(sim, req: Request, client) -> None:
    """Compute and DiskRP refuse a body member their model does not have
    (``avdsim.request_members``)."""
    definition = request_members.body_definition(req.method, req.template)
    if definition and req.raw_body:
        request_members.check(definition, req.json())


# Stages of an ARM request (a route with ``auth``), between routing and the handler.
ARM_STAGES = (count_request, authenticate, pace, authorize, check_api_version,
              throttle_subscription, throttle_resource_policy, inject_faults, check_subscription,
              require_registered, check_body_members)


def run_handler(sim, req: Request, client) -> Response:
    """Due events first, then the ``request.write`` hook (what an ARM client sent), then the
    route's handler; its result becomes a Response."""
    with sim.lock:
        sim.scheduler.run_due(sim._event_error)
        if req.route.auth and req.raw_body and req.method in ("PUT", "PATCH", "POST"):
            sim.hooks.emit("request.write", req=req)  # what a client sent (secret checks)
        result = req.route.handler(sim, req)
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        status, body = result[0], result[1]
        headers = result[2] if len(result) > 2 else None
        return Response(status, body, headers)
    return Response(200, result)


def _record_outcome(sim, req: Request, resp: Response) -> None:
    """After the answer: the pacer learns what the client got, errors are counted by code."""
    with sim.lock:
        sim.pacer.after(req.method, req.path, req.raw_query, resp.status, resp.headers)
        if resp.status >= 400 and isinstance(resp.body, dict) and isinstance(
                resp.body.get("error"), dict):
            sim.metrics.errors_by_code[resp.body["error"].get("code")] += 1


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, sim, ssl_context: ssl.SSLContext, verbose: bool = False):
        self.sim = sim
        self.ssl_context = ssl_context
        self.verbose = verbose
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        # TLS handshake in the per-connection thread, never in the accept loop.
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def make_ssl_context(cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


class Ticker(threading.Thread):
    """Runs due timed events in the background (bounded sleep between rounds)."""

    def __init__(self, sim, interval_s: float = 0.01):
        super().__init__(name="avdsim-ticker", daemon=True)
        self.sim = sim
        self.interval_s = interval_s
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.wait(self.interval_s):
            self.sim.tick()
