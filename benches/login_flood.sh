#!/usr/bin/env bash
# 200 concurrent wrong logins against the release binary on SQLite, on
# loopback: how fast /healthz still answers during the flood, how the logins
# were answered, and the process's peak memory. Bounded: RUNS floods (default
# 3), each on a fresh server, ~30 s at most each; then the medians.
# Run: benches/login_flood.sh   (builds the release binary first)
#      BIN=path/to/chatshop benches/login_flood.sh   (that binary, no build: to compare two)
#      CHATSHOP_HASHING_SLOTS=1 benches/login_flood.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet
    BIN=target/release/chatshop
fi
runs=${RUNS:-3}
results=$(mktemp)
trap 'rm -f "$results"' EXIT
echo "uptime: $(uptime)"

flood_once() {
    local work port pid email
    work=$(mktemp -d)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    CHATSHOP_HASHING_SLOTS=${CHATSHOP_HASHING_SLOTS:-} DATABASE_URL="$work/flood.db" CHATSHOP_BIND="127.0.0.1:$port" \
        CHATSHOP_MAIL_DIR="$work/mail" "$BIN" >"$work/banner.txt" 2>/dev/null &
    pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    email=$(grep -o '"email":"[^"]*"' "$work/banner.txt" | tail -n 1 | cut -d'"' -f4)
    python3 - "$port" "$pid" "$email" <<'PY' | tee -a "$results"
import json, statistics, sys, threading, time, urllib.request, urllib.error
port, pid, demo_email = sys.argv[1], sys.argv[2], sys.argv[3]
base = f"http://127.0.0.1:{port}"

def post_login(email):
    body = json.dumps({"email": email, "password": "not the password"}).encode()
    request = urllib.request.Request(base + "/v1/auth/login", body, {"content-type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    return status, time.perf_counter() - started

def peak_rss_mib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")

# Half aim at the demo owner's e-mail, half at 100 different e-mails.
emails = [demo_email if i % 2 == 0 else f"guess{i}@example.com" for i in range(200)]
results, health = [], []
done = threading.Event()

def probe():
    while not done.is_set():
        started = time.perf_counter()
        urllib.request.urlopen(base + "/healthz", timeout=10).read()
        health.append(time.perf_counter() - started)
        time.sleep(0.01)

def flood(email):
    results.append(post_login(email))

rss_before = peak_rss_mib()
prober = threading.Thread(target=probe)
prober.start()
started = time.perf_counter()
threads = [threading.Thread(target=flood, args=(e,)) for e in emails]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.perf_counter() - started
done.set(); prober.join()
by_status = {}
for status, _ in results:
    by_status[status] = by_status.get(status, 0) + 1
login_times = sorted(t for _, t in results)
health.sort()
p50, p99 = statistics.median(health) * 1e3, health[int(len(health) * 0.99)] * 1e3
print(f"200 concurrent wrong logins in {elapsed:.2f} s: answers {dict(sorted(by_status.items()))} "
      f"(401: checked, 429: busy or held); login p50 {statistics.median(login_times)*1e3:.0f} ms, "
      f"max {login_times[-1]*1e3:.0f} ms; /healthz {len(health)} probes, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
      f"max {health[-1]*1e3:.1f} ms; peak RSS {peak_rss_mib():.0f} MiB (before {rss_before:.0f} MiB)")
print(f"RESULT {peak_rss_mib():.1f} {p50:.2f} {p99:.2f}")
PY
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$work"
}

for _ in $(seq 1 "$runs"); do flood_once | grep -v '^RESULT'; done
python3 - "$results" <<'PY'
import statistics, sys
rows = [list(map(float, l.split()[1:])) for l in open(sys.argv[1]) if l.startswith("RESULT")]
rss, p50, p99 = (statistics.median(column) for column in zip(*rows))
print(f"median of {len(rows)} runs: peak RSS {rss:.0f} MiB; /healthz p50 {p50:.1f} ms, p99 {p99:.1f} ms")
PY
