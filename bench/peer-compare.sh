#!/usr/bin/env bash
# devicegate on both HTTP adapters beside oidc-provider 9 (Redis storage) in one run, with the same load
# driver (../shared/peer-bench/bench.mjs): device authorization, a pending poll over 20,000 codes and cached
# introspection; prints the driver's table and the ratios devicegate / oidc-provider.
#   npm run build && bash bench/peer-compare.sh [-c 50 -d 10 -n 3]
#   ADAPTERS=fastify bash bench/peer-compare.sh          # one adapter only (both by default)
#   PEER_BENCH=/path/to/peer-bench                       # where the driver is (../shared/peer-bench by default)
set -euo pipefail
ARGS="${*:--c 50 -d 10 -n 3}"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ADAPTERS="${ADAPTERS:-express fastify}"
PEER_BENCH="${PEER_BENCH:-$ROOT/../shared/peer-bench}"
[ -d "$PEER_BENCH" ] || PEER_BENCH="$ROOT/../../shared/peer-bench"
PEER=$(mktemp -d)
P=""; DB=""
cleanup() {
  [ -n "$P" ] && kill "$P" 2>/dev/null || true
  [ -n "$DB" ] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" postgres || true
  rm -rf "$PEER"
}
trap cleanup EXIT
cp -r "$PEER_BENCH/." "$PEER"
cd "$PEER"
# The driver and the peer need autocannon and oidc-provider; the project's install has both.
if [ -d "$ROOT/node_modules/oidc-provider" ] && [ -d "$ROOT/node_modules/autocannon" ]; then
  ln -s "$ROOT/node_modules" node_modules
else
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi
wait_port() { for _ in $(seq 150); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.2; done; return 1; }
REDIS_PID=$(pgrep -x redis-server | head -1 || true)

node peer.mjs redis > peer-redis.log 2>&1 & P=$!
wait_port 4000 && wait_port 4001
node bench.mjs devauth --pids "$P,$REDIS_PID" --label oidc-provider_device_authorization $ARGS
node bench.mjs pending --pids "$P,$REDIS_PID" --label oidc-provider_pending_poll --pool 20000 $ARGS
node bench.mjs introspect --pids "$P,$REDIS_PID" --label oidc-provider_introspection $ARGS
kill $P; wait $P 2>/dev/null || true; P=""

DG_PASSWORD="bench-$(head -c 12 /dev/urandom | base64 | tr -d '\n/+=')"
RS_SECRET_DG="$(head -c 32 /dev/urandom | base64 | tr -d '\n/+=')"
HASH=$(cd "$ROOT" && node -e "console.log(require('./dist/src/common/crypto').hashPasswordSync(process.argv[1]))" "$DG_PASSWORD")
cat > "$PEER/devicegate.json" <<JSON
{"scopes": [{"name": "openid", "description": "Sign in"}],
 "clients": [{"client_id": "cli", "name": "CLI", "type": "public", "scopes": ["openid"], "poll_interval": 1},
             {"client_id": "rs", "name": "Resource server", "type": "confidential", "client_secret": "$RS_SECRET_DG",
              "grant_types": [], "scopes": [], "resource_server": true}],
 "users": [{"username": "bench", "email": "bench@example.com", "name": "Bench", "password_hash": "$HASH"}]}
JSON
export DEVICE_PATH=/oauth/device/code TOKEN_PATH=/oauth/token INTROSPECT_PATH=/oauth/introspect CLIENT_ID=cli SCOPE=openid
for ADAPTER in $ADAPTERS; do
  DB=devicegate_peer_$$_$ADAPTER
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB" postgres
  HTTP_ADAPTER="$ADAPTER" NODE_ENV=production PORT=4500 HOST=127.0.0.1 PUBLIC_URL=http://127.0.0.1:4500 MIGRATE_ON_BOOT=true \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX="devicegate-peer-$$-$ADAPTER:" \
    SECRET_KEYS="k1:$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')" DEVICEGATE_CONFIG="$PEER/devicegate.json" \
    RATE_LIMIT_DEVICE_CODE_PER_IP=100000000/1m RATE_LIMIT_DEVICE_CODE_PER_CLIENT=100000000/1m \
    RATE_LIMIT_LOGIN_PER_IP=100000/1m RATE_LIMIT_APPROVAL_PER_IP=100000/1m RATE_LIMIT_LOOKUP_PER_IP=100000/1m \
    node "$ROOT/dist/src/main.js" > "devicegate-$ADAPTER.log" 2>&1 & P=$!
  wait_port 4500; sleep 1
  node bench.mjs devauth --base http://127.0.0.1:4500 --pids "$P,$REDIS_PID" --label "devicegate_${ADAPTER}_device_authorization" $ARGS
  node bench.mjs pending --base http://127.0.0.1:4500 --pids "$P,$REDIS_PID" --label "devicegate_${ADAPTER}_pending_poll" --pool 20000 $ARGS
  DG_USER=bench DG_PASSWORD="$DG_PASSWORD" RS_SECRET="$RS_SECRET_DG" node bench.mjs introspect --base http://127.0.0.1:4500 --pids "$P,$REDIS_PID" \
    --label "devicegate_${ADAPTER}_introspection" $ARGS
  kill $P; wait $P 2>/dev/null || true; P=""
  redis-cli --scan --pattern "devicegate-peer-$$-$ADAPTER:*" | xargs -r -n 500 redis-cli del >/dev/null
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" postgres; DB=""
done

node summarize.mjs results
node "$ROOT/bench/peer-ratios.mjs" results
