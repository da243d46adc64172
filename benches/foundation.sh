#!/usr/bin/env bash
# Foundation figures: cold start to healthy, idle RSS, and catalogue import
# times (largest sample, a generated 100,000-row feed) on SQLite and PostgreSQL.
# Usage: benches/foundation.sh [runs]   (release build; loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet
bin=$PWD/target/release/chatshop
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=$((20000 + $$ % 20000))

ms() { date +%s%N; }
# Waits for /healthz; fails if the server ($1) exits first.
wait_healthy() {
  until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    kill -0 "$1" 2>/dev/null || { echo "the server exited; see its log" >&2; exit 1; }
    sleep 0.005
  done
}
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }

# Cold start: an empty folder, first run (migrations, JWT secret, demo shop with 25 products).
starts=()
for i in $(seq "$runs"); do
  dir="$work/start$i"; mkdir -p "$dir"; cd "$dir"
  t0=$(ms)
  CHATSHOP_BIND=127.0.0.1:$port "$bin" >banner.txt 2>log.txt &
  pid=$!
  wait_healthy $pid
  t1=$(ms)
  starts+=($(( (t1 - t0) / 1000000 )))
  if [ "$i" = 1 ]; then
    sleep 2
    rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
    shop=$(grep -o 'Padaria Doce Lar ([0-9a-f-]*)' banner.txt | grep -o '[0-9a-f-]\{36\}')
    keep_dir=$dir
  fi
  kill $pid; wait $pid 2>/dev/null || true
  cd - >/dev/null
done
echo "cold start to healthy (first run, demo shop): median $(printf '%s\n' "${starts[@]}" | median) ms over $runs runs (${starts[*]})"
echo "idle RSS after start: $((rss / 1024)) MiB ($rss KiB)"

# Warm start: the same database again.
warm=()
for i in $(seq "$runs"); do
  cd "$keep_dir"; t0=$(ms)
  CHATSHOP_BIND=127.0.0.1:$port "$bin" >/dev/null 2>&1 &
  pid=$!
  wait_healthy $pid
  warm+=($(( ($(ms) - t0) / 1000000 ))); kill $pid; wait $pid 2>/dev/null || true; cd - >/dev/null
done
echo "warm start to healthy: median $(printf '%s\n' "${warm[@]}" | median) ms"

python3 - "$work/feed-100k.csv" <<'PY'
import csv, sys
with open(sys.argv[1], "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["id","title","description","availability","condition","price","link","image_link","brand","quantity_to_sell_on_facebook","product_type"])
    for i in range(100_000):
        w.writerow([f"SKU-{i:06d}", f"Produto nº {i} — pão, açaí & café", f"Descrição \"especial\", item {i}, com vírgulas", "in stock", "new",
                    f"{(i % 9999) + 1}.{i % 100:02d} BRL", f"https://loja.com.br/p/{i}", f"https://loja.com.br/img/{i}.jpg", "Loja", i % 50, "Mercearia > Geral"])
PY
echo "generated feed: $(du -h "$work/feed-100k.csv" | cut -f1), 100000 rows"

import_times() { # database-url shop file label
  local times=()
  for i in $(seq 3); do
    t0=$(ms)
    DATABASE_URL=$1 "$bin" catalog import --shop "$2" "$3" >/dev/null
    times+=($(( ($(ms) - t0) / 1000000 )))
  done
  echo "$4: first (all created) ${times[0]} ms; re-imports (all updated) ${times[1]}, ${times[2]} ms"
}

sample=$PWD/catalog-samples/moda-ipanema.csv
import_times "$keep_dir/chatshop.db" "$shop" "$sample" "SQLite, largest sample (moda-ipanema, 41 rows)"
import_times "$keep_dir/chatshop.db" "$shop" "$work/feed-100k.csv" "SQLite, 100,000 rows"

if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  db=chatshop_bench_$$
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db" postgres
  url=postgres://postgres@127.0.0.1:5432/$db
  mkdir "$work/pg"
  # The demo shop gives the import a shop to fill (asked for: it is off on PostgreSQL by default).
  DATABASE_URL=$url CHATSHOP_SECRET_KEY=$(head -c 32 /dev/urandom | base64) CHATSHOP_DEMO=true CHATSHOP_BIND=127.0.0.1:$port "$bin" >"$work/pg/banner.txt" 2>/dev/null &
  pid=$!
  wait_healthy $pid
  pgshop=$(grep -o 'Padaria Doce Lar ([0-9a-f-]*)' "$work/pg/banner.txt" | grep -o '[0-9a-f-]\{36\}')
  kill $pid; wait $pid 2>/dev/null || true
  import_times "$url" "$pgshop" "$sample" "PostgreSQL, largest sample (41 rows)"
  import_times "$url" "$pgshop" "$work/feed-100k.csv" "PostgreSQL, 100,000 rows"
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $db WITH (FORCE)" postgres
fi
