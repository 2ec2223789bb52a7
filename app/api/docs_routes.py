"""The OpenAPI document and a page that shows it (Swagger UI, served from app/static/vendor).

The page keeps the site's Content-Security-Policy: Swagger UI sets its styles through the DOM,
which the policy allows, and its script and start-up code are files of our own origin.
"""

from __future__ import annotations

from flask import current_app
from flask import jsonify
from flask import render_template

from app.api import docs_bp


@docs_bp.get("/api/v1/openapi.json")
def openapi_json():
    return jsonify(current_app.extensions["formyard.api"].spec.to_dict())


@docs_bp.get("/api/docs")
def show_docs():
    return render_template("api/docs.html")
