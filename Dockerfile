# dorsal: the release binary on Debian slim.
#
#   docker build -t dorsal .
#   docker run --rm -p 8080:8080 dorsal        # `serve` on SQLite in /var/lib/dorsal
#   docker run --rm dorsal migrate|api|worker   # with DATABASE_URL, DORSAL_JWT_SECRET,
#                                               # DORSAL_DATA_KEY
#
# compose.yaml runs the same image on PostgreSQL as migrate, api and workers.
# Needs BuildKit (the default builder since Docker 23) for the cache mounts.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# The manifests first, then the sources. Every workspace member must be
# present for cargo to load the workspace, workspace-hack/ (which gives
# every dependency one feature set) among them; service/ embeds
# config/default.toml; third_party/ holds the patched sqlx-core that
# [patch.crates-io] points at. (.ci/check-deploy checks that this list covers
# the workspace.)
COPY Cargo.toml Cargo.lock ./
COPY third_party/ third_party/
COPY config/ config/
COPY src/ src/
COPY api/ api/
COPY bench/ bench/
COPY domain/ domain/
COPY entity/ entity/
COPY migration/ migration/
COPY service/ service/
COPY tests/ tests/
COPY worker/ worker/
COPY workspace-hack/ workspace-hack/
# Cargo's registry and target directory live in BuildKit cache mounts, so a
# source change recompiles the workspace crates, not every dependency. The
# target directory is a mount, so the binary is copied out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p dorsal \
 && install -D -m 0755 target/release/dorsal /out/dorsal

FROM debian:bookworm-slim
# ca-certificates: TLS to webhooks, push gateways and FCM.
# tzdata: patients' time zones come from the system zone database (jiff
# reads /usr/share/zoneinfo); without it every reminder time is wrong.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*
# A fixed non-root uid, so orchestrators can check runAsNonRoot. Its home is
# the working directory: `serve` on the default SQLite URL keeps dorsal.db
# and the generated dorsal-jwt.key and dorsal-data.key there (mount a volume
# on it to keep them).
RUN groupadd --system --gid 10001 dorsal \
 && useradd --system --uid 10001 --gid dorsal --home-dir /var/lib/dorsal \
      --create-home --shell /usr/sbin/nologin dorsal
COPY --from=build /out/dorsal /usr/local/bin/dorsal
USER 10001:10001
WORKDIR /var/lib/dorsal
ENV DORSAL_BIND=0.0.0.0:8080 DORSAL_LOG_FORMAT=json
EXPOSE 8080
# No HEALTHCHECK here: one image runs four roles, and only `serve` and `api`
# listen; an image-level probe would mark every worker unhealthy and would
# need curl, which is not installed. compose.yaml probes the api service's
# GET /readyz with bash's /dev/tcp (bash is in the base image); Kubernetes
# would use an httpGet probe on /readyz and /healthz.
ENTRYPOINT ["dorsal"]
CMD ["serve"]
