#!/usr/bin/env bash
# devicegate beside oidc-provider 9 (Redis storage) in one run, with the same load driver
# (../shared/peer-bench/bench.mjs): device authorization and a pending poll over 20,000 codes.
#   npm run build && bash bench/peer-compare.sh [-c 50 -d 10 -n 3]
#   HTTP_ADAPTER=fastify bash bench/peer-compare.sh      # devicegate on Fastify (Express by default)
set -euo pipefail
ARGS="${*:--c 50 -d 10 -n 3}"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ADAPTER="${HTTP_ADAPTER:-express}"
PEER=$(mktemp -d)
cp -r "$ROOT/../shared/peer-bench/." "$PEER"
cd "$PEER" && npm install --no-audit --no-fund --loglevel=error >/dev/null
wait_port() { for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.2; done; return 1; }
REDIS_PID=$(pgrep -x redis-server | head -1 || true)

node peer.mjs redis > peer-redis.log 2>&1 & P=$!
wait_port 4000 && wait_port 4001
node bench.mjs devauth --pids "$P,$REDIS_PID" --label oidc-provider_device_authorization $ARGS
node bench.mjs pending --pids "$P,$REDIS_PID" --label oidc-provider_pending_poll --pool 20000 $ARGS
kill $P; wait $P 2>/dev/null || true

DB=devicegate_peer_$$
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" postgres
cat > "$PEER/devicegate.json" <<'JSON'
{"scopes": [{"name": "openid", "description": "Sign in"}],
 "clients": [{"client_id": "cli", "name": "CLI", "type": "public", "scopes": ["openid"], "poll_interval": 1}]}
JSON
HTTP_ADAPTER="$ADAPTER" NODE_ENV=production PORT=4500 HOST=127.0.0.1 PUBLIC_URL=http://127.0.0.1:4500 MIGRATE_ON_BOOT=true \
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX="devicegate-peer-$$:" \
  SECRET_KEYS="k1:$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')" DEVICEGATE_CONFIG="$PEER/devicegate.json" \
  RATE_LIMIT_DEVICE_CODE_PER_IP=100000000/1m RATE_LIMIT_DEVICE_CODE_PER_CLIENT=100000000/1m \
  node "$ROOT/dist/src/main.js" > devicegate.log 2>&1 & P=$!
wait_port 4500; sleep 1
export DEVICE_PATH=/oauth/device/code TOKEN_PATH=/oauth/token CLIENT_ID=cli SCOPE=openid
node bench.mjs devauth --base http://127.0.0.1:4500 --pids "$P,$REDIS_PID" --label "devicegate_${ADAPTER}_device_authorization" $ARGS
node bench.mjs pending --base http://127.0.0.1:4500 --pids "$P,$REDIS_PID" --label "devicegate_${ADAPTER}_pending_poll" --pool 20000 $ARGS
kill $P; wait $P 2>/dev/null || true
redis-cli --scan --pattern "devicegate-peer-$$:*" | xargs -r -n 500 redis-cli del >/dev/null
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" postgres

node summarize.mjs results
rm -rf "$PEER"
