"""The OpenAPI document and a page that shows it (Swagger UI, served from app/static/vendor),
and the answer for any other address under /api/v1.

The page keeps the site's Content-Security-Policy: Swagger UI sets its styles through the DOM,
which the policy allows, and its script and start-up code are files of our own origin.
"""

from __future__ import annotations

from flask import Response
from flask import current_app
from flask import jsonify
from flask import render_template
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound

from app.api import docs_bp

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@docs_bp.get("/api/v1/openapi.json")
def openapi_json():
    return jsonify(current_app.extensions["formyard.api"].spec.to_dict())


@docs_bp.get("/api/docs")
def show_docs():
    return render_template("api/docs.html")


@docs_bp.route("/api/v1/<path:address>", methods=METHODS, provide_automatic_options=False)
def unknown_address(address: str):
    """404, or 405 when the address takes other methods. Answered by a view rather than left to
    the router (the address matches no route, or an id is out of range), so these answers too
    have the API's error shape and are counted with their rate-limit headers."""
    allowed = _methods_elsewhere()
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound("There is nothing at this address in the API.")


def _methods_elsewhere() -> list[str]:
    """The methods a route other than the catch-all takes at this request's address."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in METHODS:
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != "api_docs.unknown_address":
            allowed.append(method)
    return allowed


def allow_only_real_methods(response: Response) -> Response:
    """An after_request hook: OPTIONS lists the methods of the address's real routes, not the
    catch-all's."""
    if request.method == "OPTIONS" and "Allow" in response.headers:
        response.headers["Allow"] = ", ".join(_methods_elsewhere())
    return response
