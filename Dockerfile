# One image recipe for every service and the operator CLI, built from the repository root:
#   docker build --build-arg SERVICE=events -t nzr-events:0.1.0 .
# SERVICE is one of actors, events, newsletter, funding, reporting (the uv workspace packages
# nzr-<service> under services/) or cli (nzr-cli under tools/, the `nzr` command).
# Installs exactly what uv.lock pins (`uv sync --frozen`), the package and its workspace
# dependencies (nzr-common; the CLI also nzr-funding), without dev dependencies.
# Multi-stage and slim: uv and the sources stay in the build stage, the image gets the virtual
# environment only. Runs as the non-root uid 10001 and writes only /tmp, so it works with
# readOnlyRootFilesystem (Kubernetes) and read_only (docker compose); bytecode is compiled at
# build time for that reason.
ARG SERVICE

FROM python:3.11-slim AS build
ARG SERVICE
RUN test -n "$SERVICE" || { echo "build with --build-arg SERVICE=<service>" >&2; exit 1; }
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /src
# Third-party dependencies first (a layer that changes only with uv.lock). uv reads the whole
# workspace, so every member's pyproject.toml is needed, but none of their sources yet.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY services/actors/pyproject.toml services/actors/
COPY services/events/pyproject.toml services/events/
COPY services/newsletter/pyproject.toml services/newsletter/
COPY services/funding/pyproject.toml services/funding/
COPY services/reporting/pyproject.toml services/reporting/
COPY tools/cli/pyproject.toml tools/cli/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package "nzr-${SERVICE}"
# Then the workspace packages themselves, installed as wheels (not editable), so the image
# needs no source tree.
COPY libs ./libs
COPY services ./services
COPY tools ./tools
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "nzr-${SERVICE}"

FROM python:3.11-slim AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="nzr-${SERVICE}"
ENV PATH=/opt/venv/bin:$PATH HOST=0.0.0.0 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 nzr \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin nzr
COPY --from=build /opt/venv /opt/venv
WORKDIR /tmp
USER 10001:10001

# One stage per SERVICE: its port and its command. Migrations run from the same image with
# `python -m nzr_<service> migrate` (a Kubernetes Job, a compose one-shot).
FROM runtime AS actors
ENV PORT=8101
EXPOSE 8101
CMD ["python", "-m", "nzr_actors", "serve"]

FROM runtime AS events
ENV PORT=8102
EXPOSE 8102
CMD ["python", "-m", "nzr_events", "serve"]

FROM runtime AS newsletter
ENV PORT=8103
EXPOSE 8103
CMD ["python", "-m", "nzr_newsletter", "serve"]

FROM runtime AS funding
ENV PORT=8104
EXPOSE 8104
CMD ["python", "-m", "nzr_funding", "serve"]

FROM runtime AS reporting
ENV PORT=8105
EXPOSE 8105
CMD ["python", "-m", "nzr_reporting", "serve"]

# The operator CLI: `nzr topology provision` (the Kubernetes Job nats-provision, the compose
# one-shots <node>-nats-provision) and `nzr topology dev-secrets` / `render` (nats-secrets).
FROM runtime AS cli
CMD ["nzr", "--help"]

# The image of the SERVICE chosen at build time.
FROM ${SERVICE}
