# byline: Kafka news-enrichment service.
# Build:  docker build -t byline .
# Run:    docker run --rm -e BYLINE_BROKERS=kafka:9092 -p 8080:8080 byline
# Stage 1 compiles with Debian's -dev packages; stage 2 carries only the
# binary, its data files (/usr/share/byline) and the runtime libraries.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      librdkafka-dev libjansson-dev libcurl4-openssl-dev libmicrohttpd-dev \
      libssl-dev libcmocka-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# tests/integration/test_compose.sh runs this same line (with a temp dir for
# /build and /stage) to keep it working; edit both together.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBYLINE_DEFAULT_CONFIG_DIR=/usr/share/byline && cmake --build /build -j && DESTDIR=/stage cmake --install /build --prefix /usr

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      librdkafka1 libjansson4 libcurl4 libmicrohttpd12 libssl3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 byline \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin byline
COPY --from=build /stage/usr/bin/byline /usr/bin/byline
COPY --from=build /stage/usr/share/byline /usr/share/byline
USER 10001:10001
ENV BYLINE_HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
# Liveness only; readiness (broker reachable, group joined) is /readyz.
# Follows the port of BYLINE_HTTP_ADDR if it is changed.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${BYLINE_HTTP_ADDR##*:}/healthz" >/dev/null || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["byline"]
