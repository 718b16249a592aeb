# The operator's image: a static binary on distroless, running as 65532.
# Plain Dockerfile syntax (no BuildKit-only features), so the legacy builder
# works too. Override BASE_IMAGE to build from another registry, e.g.
#   make docker-build BASE_IMAGE=docker.io/library/golang:1.26
ARG BASE_IMAGE=golang:1.26
ARG RUNTIME_IMAGE=gcr.io/distroless/static:nonroot
FROM ${BASE_IMAGE} AS builder
ARG TARGETOS
ARG TARGETARCH

WORKDIR /workspace
# Modules first, so source edits do not invalidate the download layer.
COPY go.mod go.mod
COPY go.sum go.sum
RUN go mod download

# Source (filtered by .dockerignore).
COPY . .

RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o manager ./cmd && \
    CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o skillmesh-svc ./services/cmd/skillmesh-svc

# The bundled services, one image for all: the first argument picks one
# (skills, career, learning). Build it with --target services.
FROM ${RUNTIME_IMAGE} AS services
WORKDIR /
COPY --from=builder /workspace/skillmesh-svc .
USER 65532:65532
ENTRYPOINT ["/skillmesh-svc"]

# The operator (the default target).
FROM ${RUNTIME_IMAGE} AS manager
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532
ENTRYPOINT ["/manager"]
