"""Who is calling: a bearer token (API clients) or the signed-in session (the browser)."""
from __future__ import annotations

from flask import current_app, g, request, session

from engine import services
from engine.errors import AuthenticationFailed


def duban():
    return current_app.extensions["duban"]


def current_actor():
    """The caller, or AuthenticationFailed (401)."""
    actor = getattr(g, "actor", None)
    if actor is not None:
        return actor
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        g.actor = services.actor_for_token(duban(), header[len("Bearer "):].strip())
        return g.actor
    user_id = session.get("user_id")
    if user_id is not None:
        actor = services.actor_for_user_id(duban(), user_id)
        if actor is not None:
            g.actor = actor
            return actor
    raise AuthenticationFailed("sign in first: send Authorization: Bearer <token>")
