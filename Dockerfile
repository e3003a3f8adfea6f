# Build the operator's binaries as static executables, then ship them on distroless.
# Multi-arch: the builder runs on the build machine's platform and Go cross-compiles
# for TARGETOS/TARGETARCH, which `docker buildx build --platform=...` sets
# (`make docker-buildx`), so no emulation is needed.
FROM --platform=$BUILDPLATFORM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
WORKDIR /workspace

# Dependencies first, so source edits reuse the module cache layer.
COPY go.mod go.sum ./
RUN go mod download

COPY cmd/ cmd/
COPY api/ api/
COPY controllers/ controllers/
COPY internal/ internal/
# The kubectl plugin embeds the generated CRD (config/crd/embed.go).
COPY config/crd/ config/crd/

# bin/manager is the operator; kubectl-healthcheck is the kubectl plugin, shipped
# in the image so that it can be copied out for the matching release.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/manager ./cmd/kubectl-healthcheck

FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /out/manager /manager
COPY --from=builder /out/kubectl-healthcheck /kubectl-healthcheck
USER 65532:65532
ENTRYPOINT ["/manager"]
