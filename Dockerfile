# Kern: one image for the web process (`kern serve`) and the mail worker (`kern worker`).
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# ffmpeg checks an exercise's short loop and copies it without its sound (api/media/pictures.py).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 kern
WORKDIR /app

# The pinned versions first (checked against their hashes), in a layer of their own that a code
# change does not rebuild.
COPY requirements/main.txt ./requirements/main.txt
RUN pip install --require-hashes -r requirements/main.txt

COPY pyproject.toml README.md ./
COPY api ./api
COPY web ./web
COPY migrations ./migrations
COPY courses ./courses
COPY alembic.ini babel.cfg ./

# Editable, so that Kern finds its migrations and templates beside the code in /app. Kern's own
# modules are compiled here: PYTHONDONTWRITEBYTECODE keeps the server from writing them later,
# so it would otherwise compile them from source on every start.
RUN pip install --no-deps -e . \
 && python -m compileall -q api web migrations \
 && pybabel compile -d web/locale -D messages \
 && mkdir -p /data/media /data/mail && chown -R kern:kern /data

USER kern
ENV APP_ENV=production \
    MALLOC_ARENA_MAX=2 \
    MEDIA_DIR=/data/media \
    MAIL_DIR=/data/mail \
    WEB_CONCURRENCY=2
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"

CMD ["kern", "serve", "--host", "0.0.0.0", "--port", "8000"]
