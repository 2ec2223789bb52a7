"""What respondents see and where other websites post: /f/<slug>."""

from flask import Blueprint
from flask import request

from app.extensions import csrf
from app.extensions import limiter

bp = Blueprint("public", __name__)
# No session, so no CSRF token: the one-time page token, the honeypot, the rate limit and the
# form's list of allowed origins guard these posts instead.
csrf.exempt(bp)


@limiter.request_filter
def _outside_the_limiter() -> bool:
    """Posts count against their own per-form limit (services.throttle) and pages have none,
    so the limiter's per-request work is skipped here."""
    return request.blueprint == "public"


from app.public import routes  # noqa: E402,F401
