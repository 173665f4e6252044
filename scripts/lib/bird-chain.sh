#!/usr/bin/env bash
# BIRD 2 baseline for the peering benchmark: N BGP routes propagated over a 3-router chain
# A (127.0.0.2, AS 65001) -> B (127.0.0.3, AS 65002) -> C (127.0.0.4, AS 65003), one bird
# process per router, eBGP sessions A-B and B-C. Measures, at C:
#   propagate_ms     A's static protocol (the N routes) enabled -> C has all N routes;
#   withdraw_ms      A's static protocol disabled -> C has no route left;
#   rss_before_kb    VmRSS of C's bird with the sessions up and no route;
#   rss_with_kb      VmRSS of C's bird holding the N routes;
#   bytes_per_route  (rss_with_kb - rss_before_kb) * 1024 / N.
# Prints exactly one JSON line on stdout; progress goes to stderr.
#
#   scripts/lib/bird-chain.sh ROUTES          e.g. 10000 or 100000 (at most 1000000)
#   POLL_MS=2 DEADLINE_S=120 scripts/lib/bird-chain.sh 100000
#
# Installs Debian's bird2 and socat when missing (apt-get as root, else through sudo).
# Leaves the machine as it found it: its own configs, control sockets and pid files in a
# mktemp -d dir, no kernel protocol (nothing reaches the kernel's routing table), listening
# sockets bound to the 127.0.0.x addresses only (`strict bind`), a system bird service (if
# any) untouched; every process it started is killed on exit, failure and signals included.
#
# Each router is driven over one control-socket session kept open (socat on fifos), so no
# client process starts inside a measurement. C is polled every POLL_MS milliseconds for the
# route counter of its BGP channel (O(1) for bird; `show route count`, which walks the table,
# is only the final cross-check). A figure is late by at most one poll interval plus one
# query (~1 ms, logged); bird answers its control socket between route batches, so a query
# sent while C is busy taking routes in is answered once that batch is done.
set -euo pipefail

log() { echo "bird-chain: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

routes=${1:-}
if [[ ! "$routes" =~ ^[1-9][0-9]*$ ]] || ((routes > 1000000)); then
  die "usage: $0 ROUTES (1 to 1000000), got '${routes}'"
fi
poll_ms=${POLL_MS:-2}
deadline_s=${DEADLINE_S:-120}
[[ "$poll_ms" =~ ^[0-9]+$ && "$deadline_s" =~ ^[1-9][0-9]*$ ]] ||
  die "POLL_MS and DEADLINE_S must be whole numbers"

# Installs what is missing of Debian's bird2 and socat (the control-socket client used here:
# birdcl does not print the end-of-reply line of most replies, so a script cannot tell when a
# reply is complete without a new client per command), the way scripts/setup.sh
# installs its packages; only this benchmark needs them, so they are not in setup.sh's list.
ensure_packages() {
  local missing=() p status
  for p in bird2 socat; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
      missing+=("$p")
    fi
  done
  ((${#missing[@]} > 0)) || return 0
  log "installing ${missing[*]}"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2 # stdout carries only the JSON line
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's bird2 may start its own bird service (not in a container without an init); that
  # one uses /etc/bird/bird.conf and /run/bird/bird.ctl, none of which is used here.
}
ensure_packages
bird_version=$(bird --version 2>&1 | sed -n 's/^BIRD version \(.*\)$/\1/p')
[[ -n "$bird_version" ]] || die "cannot read the version of bird: $(bird --version 2>&1)"

tmp=$(mktemp -d)
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    # bird exits on SIGTERM within milliseconds; reap it so no zombie or daemon outlives us.
    for _ in $(seq 100); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.02
    done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if ((rc != 0)) && [[ -d "$tmp" ]]; then
    for f in "$tmp"/*.log; do
      [[ -s "$f" ]] && log "$(basename "$f"): $(tail -n 5 "$f")"
    done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 127.0.0.0/8 is all on lo on Linux: 127.0.0.2-4 need no configuration, but check.
for ip in 127.0.0.2 127.0.0.3 127.0.0.4; do
  ip -o -4 route get "$ip" 2>/dev/null | grep -q ' dev lo ' || die "$ip is not routed to lo"
done

# One TCP port for the three routers (each listens on its own 127.0.0.x): a random high one
# that nothing listens on.
port=
for _ in $(seq 50); do
  p=$((20000 + RANDOM % 40000))
  if [[ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ]]; then
    port=$p
    break
  fi
done
[[ -n "$port" ]] || die "no free TCP port found"

# A's N routes: /24s counted up from 10.0.0.0/24 (10.0.0.0/24 ... 10.255.255.0/24, then 11.x
# and so on), blackhole (nothing is ever installed in the kernel).
awk -v n="$routes" 'BEGIN {
  print "protocol static announced {"
  print "  disabled yes;"
  print "  ipv4;"
  for (i = 0; i < n; i++)
    printf "  route %d.%d.%d.0/24 blackhole;\n", 10 + int(i / 65536), int(i / 256) % 256, i % 256
  print "}"
}' >"$tmp/routes.conf"

# bgp_session NAME LOCAL_IP LOCAL_AS PEER_IP PEER_AS
bgp_session() {
  cat <<EOF
protocol bgp $1 {
  local $2 port $port as $3;
  neighbor $4 port $port as $5;
  # 127.0.0.x sit on lo, which bird ignores (no directly connected neighbor there): the
  # sessions are multihop and next hops resolve recursively through the igp4 table.
  multihop;
  strict bind yes;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 5;
  ipv4 { import all; export all; next hop self; igp table igp4; };
}
EOF
}

# router NAME ROUTER_IP : writes $tmp/NAME.conf (sessions appended by the caller)
router() {
  cat <<EOF
log "$tmp/$1.log" all;
router id $2;
ipv4 table igp4;
protocol device { scan time 10; }
# What the BGP next hops (127.0.0.x) resolve through, in a table that BGP does not export:
# bird ignores lo and refuses 127.0.0.0/8 as a bogus route, so a blackhole default route (the
# routes at B and C then show as "blackhole", resolved, rather than "unreachable").
protocol static nexthops { ipv4 { table igp4; }; route 0.0.0.0/0 blackhole; }
EOF
}

{
  router a 127.0.0.2
  echo "include \"$tmp/routes.conf\";"
  bgp_session ab 127.0.0.2 65001 127.0.0.3 65002
} >"$tmp/a.conf"
{
  router b 127.0.0.3
  bgp_session ba 127.0.0.3 65002 127.0.0.2 65001
  bgp_session bc 127.0.0.3 65002 127.0.0.4 65003
} >"$tmp/b.conf"
{
  router c 127.0.0.4
  bgp_session cb 127.0.0.4 65003 127.0.0.3 65002
} >"$tmp/c.conf"

for r in a b c; do
  bird -p -c "$tmp/$r.conf" >&2 || die "bird rejects $tmp/$r.conf"
done

declare -A pid
for r in a b c; do
  # In the foreground (-f) as a child of this script, so $! is bird's own pid.
  bird -f -c "$tmp/$r.conf" -s "$tmp/$r.ctl" -P "$tmp/$r.pid" >"$tmp/$r.out" 2>&1 &
  pids+=($!)
  pid[$r]=$!
done
log "bird $bird_version: A ${pid[a]}, B ${pid[b]}, C ${pid[c]}, port $port, $routes routes"

# Builtin sleep (read -t on a pipe nobody writes to): no fork per poll.
exec {sleep_fd}<> <(:)
nap() { read -r -t "$1" -u "$sleep_fd" _ || true; }
now_us() { echo $((${EPOCHREALTIME/./})); }
nap_s=$(awk -v ms="$poll_ms" 'BEGIN { printf "%.3f", ms / 1000 }')

start_us=$(now_us)
deadline_us=$((start_us + deadline_s * 1000000))

# One control-socket session per router, kept open: socat between the socket and a pair of
# fifos. Bird's protocol: a reply is lines "CODE-text" or " text" and ends with a line
# "CODE text" (four digits, a space), e.g. "0000 " or "0014 Total: ...". The continuation
# lines that are not read here are dropped by grep: bash reads a pipe one byte per syscall,
# and the 40-line reply of `show protocols all` would take it ~5 ms.
declare -A cli_in cli_out
cli_send() { # cli_send ROUTER COMMAND : sends a command, the reply to be read by cli_reply
  echo "$2" >&"${cli_in[$1]}"
}
cli_reply() { # cli_reply ROUTER : reads the reply to the last command into ${reply[@]}
  local line
  reply=()
  while IFS= read -r -t 10 -u "${cli_out[$1]}" line; do
    reply+=("$line")
    [[ "$line" =~ ^[0-9]{4}\  ]] && return 0
  done
  die "no reply from bird $1 (so far: ${reply[*]: -3}; $(cat "$tmp/$1.cli-err"))"
}
cli() { # cli ROUTER COMMAND
  cli_send "$1" "$2"
  cli_reply "$1"
}
for r in a b c; do
  while [[ ! -S "$tmp/$r.ctl" ]]; do
    kill -0 "${pid[$r]}" 2>/dev/null || die "bird $r exited: $(cat "$tmp/$r.out")"
    (($(now_us) < deadline_us)) || die "bird $r did not open its control socket"
    nap 0.01
  done
  mkfifo "$tmp/$r.cli-in" "$tmp/$r.cli-raw" "$tmp/$r.cli-out"
  socat - "UNIX-CONNECT:$tmp/$r.ctl" <"$tmp/$r.cli-in" >"$tmp/$r.cli-raw" 2>"$tmp/$r.cli-err" &
  pids+=($!)
  grep --line-buffered -E '^[0-9]{4}[- ]|^ +(Routes:|10\.0\.0\.0/24 )' \
    <"$tmp/$r.cli-raw" >"$tmp/$r.cli-out" &
  pids+=($!)
  exec {fd}>"$tmp/$r.cli-in"
  cli_in[$r]=$fd
  exec {fd}<"$tmp/$r.cli-out"
  cli_out[$r]=$fd
  cli_reply "$r" # the greeting, "0001 BIRD 2.0.12 ready."
done

# Waits until both sessions are Established.
established() { # established ROUTER PROTOCOL
  local l
  cli "$1" "show protocols $2"
  for l in "${reply[@]}"; do
    [[ "$l" =~ ^1002-$2\ .*\ Established ]] && return 0
  done
  return 1
}
until established a ab && established b ba && established b bc && established c cb; do
  (($(now_us) < deadline_us)) || die "BGP sessions not established within ${deadline_s}s"
  nap 0.05
done
log "sessions established in $((($(now_us) - start_us) / 1000)) ms"

# C's routes from B, from the counter of its BGP channel ("Routes: X imported, ..."): O(1) for
# bird, where `show route count` walks the table (tens of ms at 100k routes, on the CPU that C
# needs to take the routes in).
c_routes() { # sets $count
  local l
  count=
  cli c "show protocols all cb"
  for l in "${reply[@]}"; do
    if [[ "$l" =~ ^\ *Routes:\ +([0-9]+)\ imported ]]; then
      count=${BASH_REMATCH[1]}
    fi
  done
  [[ -n "$count" ]] || die "no route counter in C's reply: ${reply[*]}"
}
table_count() { # table_count ROUTER : sets $count to the networks in its table master4
  local l
  count=
  cli "$1" "show route count"
  for l in "${reply[@]}"; do
    # "1007-X of Y routes for Z networks in table master4"
    if [[ "$l" =~ ^1007-[0-9]+\ of\ [0-9]+\ routes\ for\ ([0-9]+)\ networks\ in\ table\ master4$ ]]
    then
      count=${BASH_REMATCH[1]}
    fi
  done
  [[ -n "$count" ]] || die "no route count in the reply of $1: ${reply[*]}"
}
wait_for_count() { # wait_for_count N : polls C until it has N routes; sets $polls
  polls=0
  while :; do
    c_routes
    polls=$((polls + 1))
    ((count == $1)) && return 0
    (($(now_us) < deadline_us)) || die "C has $count routes, not $1, after ${deadline_s}s"
    if ((poll_ms > 0)); then
      nap "$nap_s"
    fi
  done
}
query_time() { # sets $query_us to the mean time of one poll query (20 of them)
  local q0
  q0=$(now_us)
  for _ in $(seq 20); do c_routes; done
  query_us=$((($(now_us) - q0) / 20))
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

c_routes
((count == 0)) || die "C has $count routes before A announces any"
query_time
query_empty_us=$query_us
nap 0.2
rss_before=$(rss_kb "${pid[c]}")

deadline_us=$(($(now_us) + deadline_s * 1000000))
t0=$(now_us)
cli_send a "enable announced"
cli_reply a
[[ "${reply[*]}" == *"announced: enabled"* ]] || die "A did not enable its routes: ${reply[*]}"
wait_for_count "$routes"
t1=$(now_us)
propagate_polls=$polls
rss_with=$(rss_kb "${pid[c]}")
nap 0.5
rss_settled=$(rss_kb "${pid[c]}")
log "propagated in $(((t1 - t0) / 1000)) ms ($propagate_polls polls);" \
  "C's RSS $rss_before -> $rss_with kB ($rss_settled kB 0.5 s later)"
table_count c
((count == routes)) || die "C's channel counts $routes routes, its table $count networks"
query_time
log "C's table: $count networks; a poll query takes ~$query_empty_us us at 0 routes," \
  "~$query_us us at $routes"
cli c "show route 10.0.0.0/24"
log "C: $(printf '%s\n' "${reply[@]}" | sed -n 's/^ *10\.0\.0\.0\/24 *//p' | tr -s ' ')"

deadline_us=$(($(now_us) + deadline_s * 1000000))
t2=$(now_us)
cli_send a "disable announced"
cli_reply a
[[ "${reply[*]}" == *"announced: disabled"* ]] || die "A did not disable its routes: ${reply[*]}"
wait_for_count 0
t3=$(now_us)
table_count c
((count == 0)) || die "C's channel counts no route, its table $count networks"
log "withdrawn in $(((t3 - t2) / 1000)) ms ($polls polls); C's RSS after: $(rss_kb "${pid[c]}")" \
  "kB; poll interval ${poll_ms} ms"

# The larger of the two RSS readings (bird may still be growing buffers right after the last
# route arrived).
if ((rss_settled > rss_with)); then
  rss_with=$rss_settled
fi
awk -v n="$routes" -v p="$((t1 - t0))" -v w="$((t3 - t2))" -v rb="$rss_before" \
  -v rw="$rss_with" -v ver="$bird_version" 'BEGIN {
  printf "{\"impl\":\"bird\",\"routes\":%d,", n
  printf "\"propagate_ms\":%.1f,\"withdraw_ms\":%.1f,", p / 1000, w / 1000
  printf "\"rss_before_kb\":%d,\"rss_with_kb\":%d,", rb, rw
  printf "\"bytes_per_route\":%.1f,\"bird_version\":\"%s\"}\n", (rw - rb) * 1024 / n, ver
}'
