from flask import jsonify

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


csrf.exempt(bp)
