"""What respondents see and where other websites post: /f/<slug>."""

from flask import Blueprint

from app.extensions import csrf
from app.extensions import limiter

bp = Blueprint("public", __name__)
# No session, so no CSRF token: the one-time page token, the honeypot, the rate limit and the
# form's list of allowed origins guard these posts instead.
csrf.exempt(bp)
# Posts count against their own per-form limit (services.throttle); pages have none.
limiter.exempt(bp)

from app.public import routes  # noqa: E402,F401
