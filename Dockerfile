# syntax=docker/dockerfile:1
# Smarter's image: `smarter serve` (the default command) and `smarter worker`, `smarter db
# upgrade`, ... from one image. Build: docker build -t smarter:$(git rev-parse --short HEAD) .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- stage 1: wheels of the project and of every dependency (compilers live only here) -------
FROM ${PYTHON_IMAGE} AS wheels
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY pyproject.toml setup.py README.md ./
COPY alembic ./alembic
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# -- stage 2: the runtime; the wheels are mounted for the install, not copied into a layer ---
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels smarter
RUN groupadd --system --gid 10001 smarter \
    && useradd --system --uid 10001 --gid smarter --home-dir /app --shell /usr/sbin/nologin smarter \
    && mkdir -p /app/var \
    && chown -R smarter:smarter /app
WORKDIR /app
USER 10001:10001
# One server process per container: Kubernetes scales pods (see deploy/kubernetes).
ENV SMARTER_BIND_HOST=0.0.0.0 \
    SMARTER_PORT=8000 \
    SMARTER_DEMO=false
EXPOSE 8000
ENTRYPOINT ["smarter"]
CMD ["serve"]
