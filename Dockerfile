# Builds the dispatch binary into a small image; docker-compose.yml runs it as serve, scheduler and worker.
FROM golang:1.26-bookworm AS build
WORKDIR /src
# Go 1.27.3: its standard library has the fixes govulncheck asks for (see the README).
ENV GOTOOLCHAIN=go1.27.3
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/dispatch ./cmd/dispatch

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 dispatch
COPY --from=build /out/dispatch /usr/local/bin/dispatch
USER dispatch
WORKDIR /var/lib/dispatch
ENTRYPOINT ["dispatch"]
