# Worker image: the verdict binary on Debian 12 with every langpack's
# compilers and runtimes, so the image's own root is the langpacks' root.
# Build from the workspace root:
#   docker build -f deploy/worker.Dockerfile -t verdict-worker .
# The sandbox needs a privileged container (namespaces, mounts, a writable
# cgroup tree); the worker stays inside its own cgroup subtree.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p verdict-cli \
    && target/release/verdict langpacks apt-packages > /packages.txt

FROM debian:bookworm-slim
COPY --from=build /packages.txt /tmp/packages.txt
# hadolint ignore=DL3008,SC2046
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates $(cat /tmp/packages.txt) \
    && rm -rf /var/lib/apt/lists/* /tmp/packages.txt
COPY --from=build /src/target/release/verdict /usr/local/bin/verdict
ENV VERDICT_STATE_DIR=/run/verdict
ENTRYPOINT ["/usr/local/bin/verdict"]
CMD ["worker"]
