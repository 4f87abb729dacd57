# The Hot API service: one image for every process (web, worker, beat, one-off commands).
#   docker build -t hot-api .          (compose.yaml builds it for you)
# It runs as an unprivileged user, holds only the runtime dependencies
# (requirements-runtime.txt) and serves the admin's static files itself (whitenoise).
FROM python:3.11-slim

ARG HOT_GIT_SHA=unknown
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=hotapi.settings \
    HOT_DATA_DIR=/data \
    HOT_STATIC_ROOT=/app/static \
    HOT_HOST=0.0.0.0 \
    HOT_GIT_SHA=${HOT_GIT_SHA}

WORKDIR /app
RUN groupadd --system --gid 10001 hot \
    && useradd --system --uid 10001 --gid hot --home-dir /app --shell /usr/sbin/nologin hot

# Dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements-runtime.txt ./
RUN pip install --no-cache-dir -r requirements-runtime.txt

COPY . .
# Static files are collected at build time (no secrets needed, nothing is kept in /tmp).
RUN HOT_DATA_DIR=/tmp/collect SECRET_KEY=collectstatic-only \
        python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/collect \
    && mkdir -p /data /metrics \
    && chown hot:hot /data /metrics

USER hot
VOLUME ["/data"]
EXPOSE 4681

# The REST tier (API, admin, probes) on gunicorn's sync workers, one per core (HOT_WEB_WORKERS);
# compose.yaml runs the SSE tier (uvicorn), the worker, the maintenance loop and migrations from
# the same image, behind nginx (deploy/nginx.conf).
CMD ["gunicorn", "--config", "python:hotapi.gunicorn_conf", "--bind", "0.0.0.0:4681", \
     "hotapi.wsgi:application"]
