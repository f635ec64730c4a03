# syntax=docker/dockerfile:1
# Paotui: one static binary (API, web apps, worker, migrations) on a distroless base.
#   docker build -t paotui .          (or: make docker)
#   docker run --rm -p 8080:8080 -e PAOTUI_DATABASE_URL=... -e PAOTUI_REDIS_URL=... paotui
# Build context: see .dockerignore (no .git, so the binary carries no VCS stamp).

ARG GO_VERSION=1.26

# --- web apps -------------------------------------------------------------------------------
# Built into web/dist/<app>/; the Go stage embeds them (web/embed.go, build tag webdist).
FROM node:22-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
COPY web/apps/ ./apps/
COPY web/packages/ ./packages/
RUN --mount=type=cache,target=/root/.npm npm ci
# The workspace root files (tsconfig, shared config); .dockerignore keeps node_modules out.
COPY web/ ./
RUN npm run build

# --- Go binary --------------------------------------------------------------------------------
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=auto
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
COPY --from=web /src/web/dist ./web/dist
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -tags webdist -ldflags "-s -w" -o /out/paotui ./cmd/paotui

# --- runtime ----------------------------------------------------------------------------------
# distroless/static: CA certificates, tzdata and /etc/passwd with the "nonroot" user (65532);
# no shell. For a debugging image use debian:bookworm-slim with ca-certificates and tzdata.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/paotui /paotui
USER 65532:65532
ENV PAOTUI_HTTP_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/paotui"]
CMD ["serve"]
