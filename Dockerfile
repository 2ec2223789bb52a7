# Formyard for those who host themselves: `docker compose up` (see docker-compose.yml) or
# `docker build -t formyard . && docker run -e SECRET_KEY=... -e DATABASE_URL=... -p 8000:8000 formyard`.
ARG PYTHON_VERSION=3.11

# Build stage: wheels for every pinned dependency installed into a virtualenv, and compressed
# copies of the static files.
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY requirements.txt .
RUN pip wheel --wheel-dir /wheels -r requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-index --find-links /wheels -r requirements.txt
COPY app/static app/static
# .gz and .br files beside the originals; WhiteNoise serves them to clients that accept them.
RUN /opt/venv/bin/python -m whitenoise.compress app/static

# Runtime stage: the virtualenv and the code, no wheels or build tools, a user without privileges.
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    APP_ENV=production \
    FLASK_APP=wsgi \
    PORT=8000
RUN groupadd --system formyard \
    && useradd --system --gid formyard --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin formyard
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY . .
COPY --from=build /src/app/static app/static
RUN mkdir -p instance && chown formyard:formyard instance
USER formyard
EXPOSE 8000
# The Host header must be one of TRUSTED_HOSTS (from BASE_URL), or the app answers 400.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.parse, urllib.request; host = urllib.parse.urlsplit(os.environ.get('BASE_URL', 'http://127.0.0.1')).netloc; urllib.request.urlopen(urllib.request.Request(f\"http://127.0.0.1:{os.environ['PORT']}/healthz\", headers={'Host': host}), timeout=4)"]
CMD ["gunicorn", "wsgi:app"]
