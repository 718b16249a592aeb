# The operator's image (default target) and the bundled services' image
# (--target services), from static binaries that `make docker-build` and
# `make docker-build-services` build first on the host with CGO_ENABLED=0
# into bin/image/. Building outside Docker needs no builder image, so this
# works where no registry answers; plain Dockerfile syntax (no BuildKit-only
# features), so the legacy builder works too.
#
# The runtime is scratch by default (nothing to pull): the programs need no
# shell, libc, CA roots or /etc/passwd (they run as the numeric user 65532).
# Where a registry answers, distroless adds CA roots and tzdata:
#   make docker-build RUNTIME_IMAGE=gcr.io/distroless/static:nonroot
ARG RUNTIME_IMAGE=scratch

# TARGETARCH is set by buildx (make docker-buildx builds bin/image/<arch>/);
# the legacy builder leaves it empty, which reads bin/image/.
FROM ${RUNTIME_IMAGE} AS services
ARG TARGETARCH
COPY bin/image/${TARGETARCH}/skillmesh-svc /skillmesh-svc
USER 65532:65532
ENTRYPOINT ["/skillmesh-svc"]

FROM ${RUNTIME_IMAGE} AS manager
ARG TARGETARCH
COPY bin/image/${TARGETARCH}/manager /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
