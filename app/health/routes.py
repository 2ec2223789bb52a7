"""Probes for platforms and monitoring: liveness, readiness (with the outbox's state) and, when
METRICS_TOKEN is set, Prometheus metrics."""

from flask import Response
from flask import abort
from flask import current_app
from flask import jsonify
from flask import request

from app.extensions import csrf
from app.extensions import limiter
from app.health import bp
from app.ops import health


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz():
    report = health.check_readiness()
    return jsonify(report.as_dict()), 200 if report.ready else 503


@bp.get("/metrics")
@limiter.exempt
def metrics():
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        abort(404)
    from app.ops import metrics as prometheus  # only imported when metrics are on

    if not prometheus.token_matches(request.headers.get("Authorization", ""), token):
        return Response(
            "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
            mimetype="text/plain",
        )
    body, content_type = prometheus.scrape()
    return Response(body, content_type=content_type)


csrf.exempt(bp)
