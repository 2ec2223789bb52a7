"""The JSON API at /api/v1, its OpenAPI document and its documentation page.

Views parse with the schemas, call one service function (the same ones the pages and the CLI
call) and answer with a schema. Every answer, errors included, carries the rate-limit headers.
"""

from flask import Blueprint as FlaskBlueprint
from flask import Flask
from flask_smorest import Blueprint
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from app.api import errors
from app.api.auth import require_token
from app.api.limits import add_rate_limit_headers
from app.api.limits import api_limit
from app.api.requests import check_request
from app.exceptions import DomainError
from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1", description="Formyard's JSON API.")
# The document, its page and the answer for addresses that name nothing need no token.
docs_bp = FlaskBlueprint("api_docs", __name__)

for blueprint in (bp, docs_bp):
    api_limit(blueprint)
    csrf.exempt(blueprint)  # Bearer tokens, no cookies: nothing for a CSRF token to protect
    blueprint.after_request(add_rate_limit_headers)
    blueprint.register_error_handler(errors.ApiError, errors.handle_api_error)
    blueprint.register_error_handler(DomainError, errors.handle_domain_error)
    blueprint.register_error_handler(HTTPException, errors.handle_http_error)
    for outage in (OperationalError, PoolTimeoutError):
        blueprint.register_error_handler(outage, errors.handle_database_unavailable)
bp.before_request(require_token)
bp.before_request(check_request)


def init_app(app: Flask) -> None:
    from app.api.openapi import create_api

    api = create_api(app)
    api.register_blueprint(bp)
    app.register_blueprint(docs_bp)
    app.extensions["formyard.api"] = api


from app.api import docs_routes  # noqa: E402
from app.api import form_routes  # noqa: E402,F401
from app.api import submission_routes  # noqa: E402,F401
from app.api import webhook_routes  # noqa: E402,F401

for blueprint in (bp, docs_bp):
    blueprint.after_request(docs_routes.allow_only_real_methods)
