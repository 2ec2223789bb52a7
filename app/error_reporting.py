"""Optional error reports to Sentry, on only when ``SENTRY_DSN`` is set.

``sentry_sdk`` is imported here and nowhere else, so a server without a DSN never loads it.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config.get("SENTRY_ENVIRONMENT") or app.config["APP_ENV"],
        integrations=[FlaskIntegration()],
        # Answers hold respondents' personal data; reports carry none of it.
        send_default_pii=False,
        max_request_body_size="never",
        traces_sample_rate=0,
    )
