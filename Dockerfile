# One image for all five Foxtrot services. The command picks the service:
#
#   docker build -t foxtrot:dev .
#   docker run foxtrot:dev python -m foxtrot.gateway          # or market_data, strategy, risk, execution
#   docker run -e DATABASE_URL=... foxtrot:dev python -m foxtrot.execution migrate
#
# or a build argument bakes a default command in:
#
#   docker build --build-arg SERVICE=gateway -t foxtrot-gateway:dev .
#
# The five services share every dependency, so one image costs no more than one of five
# per-service images would, and every service runs exactly the same code and lock.
# Configuration and credentials come from the environment at run time, never from the image.

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: resolve nothing, install exactly what uv.lock says ------------------------------
FROM ${PYTHON_IMAGE} AS builder

# The uv image is FROM scratch and holds just the binary at /uv.
# Pin a version (ghcr.io/astral-sh/uv:0.x.y) for reproducible builds once the registry is reachable.
COPY --from=ghcr.io/astral-sh/uv:latest /uv /usr/local/bin/uv

# - compile bytecode at build time: the runtime image is read-only and starts faster;
# - copy rather than hard-link from uv's cache (the cache lives in another layer);
# - use the base image's interpreter, never a downloaded one;
# - install into /app/.venv, which is the only thing the runtime stage takes.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

# The service packages only: the workspace root also pulls in foxtrot-common[local,testkit]
# (embedded nats-server and PostgreSQL, pytest, testcontainers), which production never needs.
ARG SERVICE_PACKAGES="foxtrot-market-data foxtrot-strategy foxtrot-risk foxtrot-execution foxtrot-gateway"

WORKDIR /src

# Third-party dependencies first, from the lock and the members' metadata alone, so that this
# layer is rebuilt only when a pyproject.toml or uv.lock changes, not on every code change.
COPY pyproject.toml uv.lock ./
COPY libs/core/pyproject.toml libs/core/
COPY libs/common/pyproject.toml libs/common/
COPY libs/backtest/pyproject.toml libs/backtest/
COPY services/market_data/pyproject.toml services/market_data/
COPY services/strategy/pyproject.toml services/strategy/
COPY services/risk/pyproject.toml services/risk/
COPY services/execution/pyproject.toml services/execution/
COPY services/gateway/pyproject.toml services/gateway/
RUN uv sync --frozen --no-dev --no-install-workspace \
        $(for p in $SERVICE_PACKAGES; do printf -- '--package %s ' "$p"; done)

# Then Foxtrot itself, as regular (non-editable) wheels: the venv must not point back at /src.
COPY libs/ libs/
COPY services/ services/
RUN uv sync --frozen --no-dev --no-editable \
        $(for p in $SERVICE_PACKAGES; do printf -- '--package %s ' "$p"; done)

# --- runtime: the interpreter, the venv and an unprivileged user ---------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="foxtrot" \
      org.opencontainers.image.description="Foxtrot services: market_data, strategy, risk, execution, gateway"

# A numeric uid/gid, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --gid 10001 foxtrot \
 && useradd --uid 10001 --gid foxtrot --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin foxtrot

# Owned by root and read-only to the service user: a compromised process cannot rewrite its code.
COPY --from=builder /app/.venv /app/.venv

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /app
USER 10001:10001

# Default /healthz, /readyz, /metrics (and API) ports: gateway, strategy, risk, execution,
# market_data. FOXTROT_HTTP_PORT overrides them. No HEALTHCHECK here: the port differs per
# service, so docker-compose.yml and the Kubernetes probes declare it per service.
EXPOSE 8000 8081 8082 8083 8084

ARG SERVICE=""
ENV FOXTROT_SERVICE=${SERVICE}

# `exec` so the service is PID 1 and receives SIGTERM itself (it stops gracefully on it).
# Without SERVICE (build arg or env) the image does nothing useful and says so.
CMD ["sh", "-c", "if [ -n \"$FOXTROT_SERVICE\" ]; then exec python -m \"foxtrot.$FOXTROT_SERVICE\"; fi; echo 'foxtrot: choose a service: python -m foxtrot.<market_data|strategy|risk|execution|gateway> (or python -m foxtrot.execution migrate), or set FOXTROT_SERVICE' >&2; exit 64"]
