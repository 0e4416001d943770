#!/usr/bin/env bash
# devicegate on both HTTP adapters beside oidc-provider 9 (Redis storage) in one run, with the same load
# driver (../shared/peer-bench/bench.mjs): device authorization, a pending poll over 20,000 codes and cached
# introspection; prints the driver's table and the ratios devicegate / oidc-provider.
#
# The three servers run side by side and are measured in turn, one 10 s run each, round after round
# (peer, Express, Fastify; then Express, Fastify, peer; …): this machine's speed drifts by tens of percent
# within minutes, and measuring one server's three runs before the next one's would charge that drift to
# the ratio; each round starts one server later, so the order does not favour one of them either.
#   npm run build && bash bench/peer-compare.sh [-c 50 -d 10 -n 3]
#   ADAPTERS=fastify bash bench/peer-compare.sh          # one adapter only (both by default)
#   PEER_BENCH=/path/to/peer-bench                       # where the driver is (../shared/peer-bench by default)
set -euo pipefail
CONNECTIONS=50; DURATION=10; RUNS=3
while [ $# -gt 0 ]; do
  case "$1" in
    -c) CONNECTIONS=$2; shift 2 ;;
    -d) DURATION=$2; shift 2 ;;
    -n) RUNS=$2; shift 2 ;;
    *) echo "usage: $0 [-c connections] [-d seconds] [-n rounds]" >&2; exit 2 ;;
  esac
done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ADAPTERS="${ADAPTERS:-express fastify}"
PEER_BENCH="${PEER_BENCH:-$ROOT/../shared/peer-bench}"
[ -d "$PEER_BENCH" ] || PEER_BENCH="$ROOT/../../shared/peer-bench"
WORK=$(mktemp -d)
PIDS=(); DATABASES=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for db in "${DATABASES[@]}"; do psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" postgres || true; done
  redis-cli --scan --pattern "devicegate-peer-$$-*" | xargs -r -n 500 redis-cli del >/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cp -r "$PEER_BENCH/." "$WORK"
cd "$WORK"
# The driver and the peer need autocannon and oidc-provider; the project's install has both.
if [ -d "$ROOT/node_modules/oidc-provider" ] && [ -d "$ROOT/node_modules/autocannon" ]; then
  ln -s "$ROOT/node_modules" node_modules
else
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi
wait_port() { for _ in $(seq 150); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.2; done; return 1; }
REDIS_PID=$(pgrep -x redis-server | head -1 || true)

node peer.mjs redis > peer-redis.log 2>&1 & PIDS+=($!)
PEER_PID=$!
wait_port 4000 && wait_port 4001

DG_PASSWORD="bench-$(head -c 12 /dev/urandom | base64 | tr -d '\n/+=')"
RS_SECRET_DG="$(head -c 32 /dev/urandom | base64 | tr -d '\n/+=')"
HASH=$(cd "$ROOT" && node -e "console.log(require('./dist/src/common/crypto').hashPasswordSync(process.argv[1]))" "$DG_PASSWORD")
cat > "$WORK/devicegate.json" <<JSON
{"scopes": [{"name": "openid", "description": "Sign in"}],
 "clients": [{"client_id": "cli", "name": "CLI", "type": "public", "scopes": ["openid"], "poll_interval": 1},
             {"client_id": "rs", "name": "Resource server", "type": "confidential", "client_secret": "$RS_SECRET_DG",
              "grant_types": [], "scopes": [], "resource_server": true}],
 "users": [{"username": "bench", "email": "bench@example.com", "name": "Bench", "password_hash": "$HASH"}]}
JSON
declare -A PORT PID
port=4500
for ADAPTER in $ADAPTERS; do
  DB=devicegate_peer_$$_$ADAPTER
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" postgres; DATABASES+=("$DB")
  HTTP_ADAPTER="$ADAPTER" NODE_ENV=production PORT=$port HOST=127.0.0.1 PUBLIC_URL=http://127.0.0.1:$port MIGRATE_ON_BOOT=true \
    METRICS_PORT=$((port + 4000)) DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB REDIS_URL=redis://127.0.0.1:6379 \
    REDIS_KEY_PREFIX="devicegate-peer-$$-$ADAPTER:" SECRET_KEYS="k1:$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')" \
    DEVICEGATE_CONFIG="$WORK/devicegate.json" \
    RATE_LIMIT_DEVICE_CODE_PER_IP=100000000/1m RATE_LIMIT_DEVICE_CODE_PER_CLIENT=100000000/1m \
    RATE_LIMIT_LOGIN_PER_IP=100000/1m RATE_LIMIT_APPROVAL_PER_IP=100000/1m RATE_LIMIT_LOOKUP_PER_IP=100000/1m \
    node "$ROOT/dist/src/main.js" > "devicegate-$ADAPTER.log" 2>&1 & PIDS+=($!)
  PORT[$ADAPTER]=$port; PID[$ADAPTER]=$!
  wait_port $port
  port=$((port + 1))
done
sleep 1

# Each devicegate drains the audit events of its issued codes into Postgres after answering; a drain left over
# from one server's run would run during the next server's, so every run starts with both outboxes empty.
wait_drained() {
  local adapter
  for adapter in $ADAPTERS; do
    for _ in $(seq 300); do
      curl -s "http://127.0.0.1:$((PORT[$adapter] + 4000))/metrics" | grep -q '^devicegate_audit_outbox_length 0$' && break
      sleep 0.2
    done
  done
}
LOAD="-c $CONNECTIONS -d $DURATION -n 1"
measure() { # measure SERVER DRIVER NAME ROUND POOL
  local server=$1 driver=$2 name=$3 round=$4 pool=$5
  wait_drained
  if [ "$server" = peer ]; then
    node bench.mjs "$driver" --pids "$PEER_PID,$REDIS_PID" --label "oidc-provider_${name}__$round" $pool $LOAD
  else
    DEVICE_PATH=/oauth/device/code TOKEN_PATH=/oauth/token INTROSPECT_PATH=/oauth/introspect CLIENT_ID=cli SCOPE=openid \
      DG_USER=bench DG_PASSWORD="$DG_PASSWORD" RS_SECRET="$RS_SECRET_DG" node bench.mjs "$driver" --base "http://127.0.0.1:${PORT[$server]}" \
      --pids "${PID[$server]},$REDIS_PID" --label "devicegate_${server}_${name}__$round" $pool $LOAD
  fi
}
SERVERS=(peer $ADAPTERS)
for SCENARIO in devauth:device_authorization pending:pending_poll introspect:introspection; do
  DRIVER=${SCENARIO%%:*}; NAME=${SCENARIO#*:}
  POOL=""; [ "$DRIVER" = pending ] && POOL="--pool 20000"
  for ROUND in $(seq "$RUNS"); do
    # Each round starts one server later, so no server always runs right after another one's load (and its drain).
    for STEP in $(seq 0 $((${#SERVERS[@]} - 1))); do
      measure "${SERVERS[$(((ROUND - 1 + STEP) % ${#SERVERS[@]}))]}" "$DRIVER" "$NAME" "$ROUND" "$POOL"
    done
  done
done

# The rounds of each server and scenario together (in merged/, for the driver's table), then the ratios.
node "$ROOT/bench/peer-ratios.mjs" results merged > ratios.md
node summarize.mjs merged
cat ratios.md
