"""What respondents see and where other websites post: /f/<slug>."""

from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("public", __name__)
# No session, so no CSRF token: the one-time page token, the honeypot, the rate limit and the
# form's list of allowed origins guard these posts instead.
csrf.exempt(bp)
# Flask-Limiter's hooks are kept off this blueprint (app.ratelimit.keep_limiter_off): posts
# count against their own per-form limit (services.accounts.throttle) and pages have none.


from app.public import routes  # noqa: E402,F401
