#!/usr/bin/env bash
# A throwaway single-node OpenStack Swift with the s3api middleware, for the S3 object-store tests.
#
#   scripts/s3/swift.sh install            install the Debian packages if missing
#   scripts/s3/swift.sh start <dir> [port] start on 127.0.0.1 (free port unless given), create the
#                                          bucket, write <dir>/s3.env and <dir>/pids
#   scripts/s3/swift.sh stop <dir>         kill exactly the processes listed in <dir>/pids (and
#                                          remove <dir>/s3.env)
#
# Design decision: everything (configs, rings, the one storage device, logs) lives under <dir>, and
# every server runs in the foreground with workers = 0, so <dir>/pids holds every process we
# started and `stop` needs no process-name matching. The only file outside <dir> is Swift's
# hard-wired /etc/swift/swift.conf (hash prefix/suffix + policy 0), which the Debian package
# ships; it is written only when missing. Swift calls setsid(), so the servers leave the caller's
# process group: always pair `start` with `stop` (e.g. via a trap).
#
# Credentials are tempauth's test user: access key "test:tester", secret "testing".
set -euo pipefail

PY=/usr/bin/python3 # Swift's own interpreter (the one its packages are installed for)
ACCESS_KEY="test:tester"
SECRET_KEY="testing"
REGION="us-east-1"
BUCKET="${KALAMDB_TEST_S3_BUCKET:-kalamdb-test}"
START_TIMEOUT_S="${SWIFT_START_TIMEOUT_S:-30}"

die() {
  echo "swift.sh: $*" >&2
  exit 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

install_swift() {
  local missing=0 bin
  for bin in swift-proxy-server swift-object-server swift-account-server swift-container-server \
    swift-ring-builder memcached; do
    command -v "$bin" >/dev/null 2>&1 || missing=1
  done
  [ -x "$PY" ] || missing=1
  if [ "$missing" -eq 1 ]; then
    echo "swift.sh: installing swift + memcached (apt)" >&2
    local pkgs=(swift-proxy swift-object swift-account swift-container memcached)
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      "${pkgs[@]}" >/dev/null; then
      as_root apt-get update >/dev/null
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "${pkgs[@]}" >/dev/null
    fi
  fi
  # Swift always reads its hash settings and storage policies from this path.
  if [ ! -f /etc/swift/swift.conf ]; then
    as_root mkdir -p /etc/swift
    printf '[swift-hash]\nswift_hash_path_suffix = kalamdb\nswift_hash_path_prefix = kalamdb\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n' |
      as_root tee /etc/swift/swift.conf >/dev/null
  fi
}

# Prints N currently free loopback ports, one per line (all bound at once so they differ).
free_ports() {
  "$PY" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print("\n".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# Fails unless port $1 is free on 127.0.0.1. Swift (eventlet) listens with SO_REUSEPORT, so a
# second server would otherwise share a busy port with the first one without any error.
check_port_free() {
  "$PY" - "$1" <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError as e:
    sys.exit(f"swift.sh: port {sys.argv[1]} is not free: {e.strerror}")
EOF
}

# Builds the three single-replica, single-device rings into $1 (device "d1" on 127.0.0.1).
build_rings() {
  "$PY" - "$@" <<'EOF'
import os, sys
from swift.common.ring import RingBuilder
swift_dir, acct, cont, obj = sys.argv[1], *map(int, sys.argv[2:5])
for name, port in (("account", acct), ("container", cont), ("object", obj)):
    b = RingBuilder(6, 1, 1)  # part power 6, 1 replica, min_part_hours 1
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": port,
               "device": "d1", "weight": 100, "meta": ""})
    b.rebalance()
    b.get_ring().save(os.path.join(swift_dir, name + ".ring.gz"))
EOF
}

# Signed S3 (SigV4) request against the proxy; prints the HTTP status (000 when unreachable).
s3_status() {
  "$PY" - "$@" <<'EOF'
import datetime, hashlib, hmac, sys, urllib.request, urllib.error
endpoint, method, path, access, secret, region = sys.argv[1:7]
now = datetime.datetime.utcnow()
amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
host = endpoint.split("://", 1)[1]
payload = hashlib.sha256(b"").hexdigest()
canonical = "\n".join([method, path, "", "host:" + host, "x-amz-content-sha256:" + payload,
                       "x-amz-date:" + amz_date, "", "host;x-amz-content-sha256;x-amz-date",
                       payload])
scope = f"{day}/{region}/s3/aws4_request"
to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
key = ("AWS4" + secret).encode()
for part in (day, region, "s3", "aws4_request"):
    key = hmac.new(key, part.encode(), hashlib.sha256).digest()
sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
req = urllib.request.Request(endpoint + path, method=method, headers={
    "x-amz-date": amz_date, "x-amz-content-sha256": payload,
    "Authorization": f"AWS4-HMAC-SHA256 Credential={access}/{scope}, "
                     f"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={sig}"})
try:
    with urllib.request.urlopen(req, timeout=5) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
}

write_configs() {
  local dir=$1 proxy=$2 acct=$3 cont=$4 obj=$5 mc=$6 user
  user=$(id -un)
  local common="[DEFAULT]
bind_ip = 127.0.0.1
workers = 0
user = ${user}
swift_dir = ${dir}/etc
devices = ${dir}/srv
mount_check = false
log_level = INFO
"
  printf '%sbind_port = %s\n\n[pipeline:main]\npipeline = account-server\n\n[app:account-server]\nuse = egg:swift#account\n' \
    "$common" "$acct" >"$dir/etc/account-server.conf"
  printf '%sbind_port = %s\n\n[pipeline:main]\npipeline = container-server\n\n[app:container-server]\nuse = egg:swift#container\n' \
    "$common" "$cont" >"$dir/etc/container-server.conf"
  printf '%sbind_port = %s\n\n[pipeline:main]\npipeline = object-server\n\n[app:object-server]\nuse = egg:swift#object\n' \
    "$common" "$obj" >"$dir/etc/object-server.conf"
  cat >"$dir/etc/proxy-server.conf" <<EOF
${common}bind_port = ${proxy}

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = ${REGION}
s3_acl = false
max_bucket_listing = 1000

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = ${SECRET_KEY} .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:${mc}

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes
EOF
}

stop_swift() {
  local dir=$1 pid cmd alive
  [ -f "$dir/pids" ] || return 0
  local pids=()
  while read -r pid; do
    [ -n "$pid" ] || continue
    # Only signal a pid that is still one of ours (its command line names <dir> or memcached).
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    case "$cmd" in
    *"$dir"* | *memcached*) pids+=("$pid") ;;
    esac
  done <"$dir/pids"
  if [ "${#pids[@]}" -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 50); do
      alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ "$alive" -eq 0 ] && break
      sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  fi
  rm -f "$dir/pids" "$dir/s3.env" # the env would point at a dead server
}

start_swift() {
  local dir=$1 port=${2:-} t0 ports
  t0=$(date +%s%N)
  install_swift
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  stop_swift "$dir" # a previous run in the same dir
  [ -z "$port" ] || check_port_free "$port"
  rm -rf "$dir/etc" "$dir/srv" "$dir/logs" "$dir/s3.env"
  mkdir -p "$dir/etc" "$dir/srv/d1" "$dir/logs"

  mapfile -t ports < <(free_ports 5)
  local proxy=${port:-${ports[0]}} acct=${ports[1]} cont=${ports[2]} obj=${ports[3]} mc=${ports[4]}
  build_rings "$dir/etc" "$acct" "$cont" "$obj"
  write_configs "$dir" "$proxy" "$acct" "$cont" "$obj" "$mc"

  : >"$dir/pids"
  local mc_user=()
  [ "$(id -u)" -eq 0 ] && mc_user=(-u root) # memcached refuses to run as root without -u
  memcached -l 127.0.0.1 -p "$mc" -U 0 -m 64 "${mc_user[@]}" >"$dir/logs/memcached.log" 2>&1 &
  echo $! >>"$dir/pids"
  local server
  for server in account container object proxy; do
    "swift-${server}-server" "$dir/etc/${server}-server.conf" -v >"$dir/logs/${server}.log" 2>&1 &
    echo $! >>"$dir/pids"
  done

  # Ready when a signed S3 request works end to end: create the bucket (200), or it exists (409).
  local endpoint="http://127.0.0.1:${proxy}" status deadline
  deadline=$(($(date +%s) + START_TIMEOUT_S))
  while :; do
    status=$(s3_status "$endpoint" PUT "/${BUCKET}" "$ACCESS_KEY" "$SECRET_KEY" "$REGION")
    if [ "$status" = 200 ] || [ "$status" = 409 ]; then break; fi
    local dead="" pid
    while read -r pid; do kill -0 "$pid" 2>/dev/null || dead=$pid; done <"$dir/pids"
    if [ -n "$dead" ] || [ "$(date +%s)" -ge "$deadline" ]; then
      if [ -n "$dead" ]; then
        echo "swift.sh: a server exited during start (pid ${dead}, port busy?); logs:" >&2
      else
        echo "swift.sh: S3 not ready after ${START_TIMEOUT_S}s (last status ${status}); logs:" >&2
      fi
      tail -n 20 "$dir"/logs/*.log >&2 || true
      stop_swift "$dir"
      exit 1
    fi
    sleep 0.2
  done
  status=$(s3_status "$endpoint" GET "/" "$ACCESS_KEY" "$SECRET_KEY" "$REGION")
  [ "$status" = 200 ] || {
    stop_swift "$dir"
    die "ListBuckets returned ${status}"
  }

  cat >"$dir/s3.env" <<EOF
KALAMDB_TEST_S3_ENDPOINT=${endpoint}
KALAMDB_TEST_S3_ACCESS_KEY=${ACCESS_KEY}
KALAMDB_TEST_S3_SECRET_KEY=${SECRET_KEY}
KALAMDB_TEST_S3_REGION=${REGION}
KALAMDB_TEST_S3_BUCKET=${BUCKET}
EOF
  echo "swift.sh: S3 at ${endpoint} (bucket ${BUCKET}) ready in $((($(date +%s%N) - t0) / 1000000)) ms; env in ${dir}/s3.env" >&2
}

case "${1:-}" in
install) install_swift ;;
start)
  [ -n "${2:-}" ] || die "usage: $0 start <dir> [port]"
  start_swift "$2" "${3:-}"
  ;;
stop)
  [ -n "${2:-}" ] || die "usage: $0 stop <dir>"
  [ -d "$2" ] || exit 0
  stop_swift "$(cd "$2" && pwd -P)"
  ;;
*) die "usage: $0 install | start <dir> [port] | stop <dir>" ;;
esac
