# The operator's image: `airollout operator`, with the decision core compiled by mypyc.
#
# No container engine runs on the project's machines, so this file is not built or run by
# the tests; the Helm chart that uses the image is (charts/airollout/README.md).
#
#   docker build -t REGISTRY/airollout/operator:0.1.0 .

ARG PYTHON=3.11

# Build: the locked environment, then the compiled decision core (mypyc, a dev tool), then
# the dev tools removed again, leaving the runtime packages and the compiled extensions.
FROM python:${PYTHON}-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir uv
WORKDIR /app
ENV UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/app/.venv
COPY pyproject.toml uv.lock README.md ./
COPY operator/ operator/
COPY hack/compile.sh hack/compiled-modules hack/pyproject.toml hack/
# Workspace members (the tools and the harness): uv reads them to sync; --no-dev drops them.
COPY hack/localcluster/ hack/localcluster/
COPY tools/ tools/
RUN uv sync --frozen \
    && hack/compile.sh \
    && uv sync --frozen --no-dev \
    && find /app -name '__pycache__' -prune -exec rm -rf {} + \
    && rm -rf operator/build

# Runtime: the same Python, no compiler, no uv, owned by root and run as an unprivileged
# user, so the read-only root filesystem the chart mounts holds everything it needs.
FROM python:${PYTHON}-slim AS runtime
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY --from=build /app/operator /app/operator
ENV PATH=/app/.venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["airollout", "operator"]
