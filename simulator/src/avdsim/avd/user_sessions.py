"""User sessions of a host pool (from the user-load model of ``avdsim.users``): lists with
``$filter``, GET, log-off (DELETE), disconnect and sendMessage."""

from __future__ import annotations

import uuid

from ..routing import route
from .common import HP, SH, US, US_TYPE, avd_error, bad_request, iso_at, sim_seconds
from .paging import matches, page, parse_filter
from .state import Pool, host_of, pool_of


def render_session(sim, pool: Pool, session) -> dict:
    upn, ad_name = pool.users.user_name(session.user)
    host = pool.find_host(session.host)
    host_name = host.name if host is not None else session.host
    return {
        "id": "%s/usersessions/%s" % (pool.host_id(host_name), session.session_id),
        "name": "%s/%s/%s" % (pool.name, host_name, session.session_id),
        "type": US_TYPE,
        "systemData": {"createdBy": upn, "createdByType": "User",
                       "createdAt": iso_at(sim, session.created_s), "lastModifiedBy": upn,
                       "lastModifiedByType": "User", "lastModifiedAt": iso_at(sim, session.created_s)},
        "properties": {
            "objectId": str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/%d" % (pool.id.lower(), session.uid))),
            "userPrincipalName": upn,
            "applicationType": "Desktop",
            "sessionState": session.state,
            "activeDirectoryUserName": ad_name,
            "createTime": iso_at(sim, session.created_s),
        },
    }


def advance_users(sim, pool: Pool) -> None:
    pool.users.advance_to(sim_seconds(sim))


def _session_not_found():
    return avd_error(404, "User session ID not found")


def existing_session(sim, pool: Pool, host_name: str, session_id: str):
    """The session (after the users model caught up with now), or 404."""
    advance_users(sim, pool)
    session = pool.users.get_session(host_name, session_id)
    if session is None:
        raise _session_not_found()
    return session


def log_off(sim, pool: Pool, host_name: str, session_id: str) -> None:
    advance_users(sim, pool)
    if not pool.users.logoff(sim_seconds(sim), host_name, session_id, "log-off by the operator"):
        raise _session_not_found()


def send_message(sim, pool: Pool, host_name: str, session_id: str, body: dict) -> None:
    title, text = body.get("messageTitle"), body.get("messageBody")
    if title is not None and not isinstance(title, str) or text is not None and not isinstance(text, str):
        raise bad_request("messageTitle and messageBody must be strings.")
    pool.users.send_message(sim_seconds(sim), host_name, session_id, title or "", text or "")


@route("GET", HP + "/userSessions")
def list_user_sessions_pool(sim, req):
    pool = pool_of(sim, req)
    advance_users(sim, pool)
    clauses = parse_filter(req.query.get("$filter"))
    extra = {"$filter": req.query.get("$filter")} if req.query.get("$filter") else None
    if not clauses:  # render only the page asked for (a pool of hundreds of sessions, polled)
        return page(sim, req, pool.users.sessions(), extra, lambda s: render_session(sim, pool, s))
    items = [render_session(sim, pool, s) for s in pool.users.sessions()]
    items = [item for item in items if matches(item, clauses)]
    return page(sim, req, items, extra)


@route("GET", SH + "/userSessions")
def list_user_sessions_host(sim, req):
    pool, host = host_of(sim, req)
    advance_users(sim, pool)
    return page(sim, req, pool.users.sessions(host.name), render=lambda s: render_session(sim, pool, s))


@route("GET", US)
def get_user_session(sim, req):
    pool, host = host_of(sim, req)
    return render_session(sim, pool, existing_session(sim, pool, host.name, req.param("userSessionId")))


@route("DELETE", US)
def delete_user_session(sim, req):
    pool, host = host_of(sim, req)
    log_off(sim, pool, host.name, req.param("userSessionId"))
    return 200, None


@route("POST", US + "/disconnect")
def disconnect_user_session(sim, req):
    pool, host = host_of(sim, req)
    session = existing_session(sim, pool, host.name, req.param("userSessionId"))
    pool.users.disconnect(sim_seconds(sim), host.name, session.session_id)
    return 200, None


@route("POST", US + "/sendMessage")
def send_message_route(sim, req):
    pool, host = host_of(sim, req)
    session = existing_session(sim, pool, host.name, req.param("userSessionId"))
    send_message(sim, pool, host.name, session.session_id, req.json_or_empty())
    return 200, None
