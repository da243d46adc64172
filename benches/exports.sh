#!/usr/bin/env bash
# 1M generated orders (one line each, a month in São Paulo) exported by the
# release binary's `chatshop export orders` as CSV and XLSX, on SQLite and on
# PostgreSQL: rows/s (wall time, process start included) and peak RSS
# (`/usr/bin/time -v`), RUNS runs each (default 3), then the medians. In the
# same run a baseline: the database's own CLI reading the same rows
# (`sqlite3 -csv`, `psql \copy ... TO STDOUT`), so figures on a shared
# machine come with a ratio. Goals: CSV >= 500k rows/s, XLSX >= 100k rows/s,
# peak RSS <= 64 MB.
# Run: benches/exports.sh                 (builds the release binary first)
#      BIN=path/to/chatshop benches/exports.sh   ORDERS=200000 RUNS=5 ENGINES=sqlite
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet --bin chatshop
    BIN=target/release/chatshop
fi
orders=${ORDERS:-1000000}
runs=${RUNS:-3}
engines=${ENGINES:-sqlite postgres}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
work=$(mktemp -d)
# PostgreSQL wants a sealing key; any fixed one does for generated data.
export CHATSHOP_SECRET_KEY=${CHATSHOP_SECRET_KEY:-Y2hhdHNob3AtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=}
results="$work/results.txt"
trap 'rm -rf "$work"' EXIT
echo "uptime: $(uptime)"

# The demo shop (and its products) from one short start of the service.
seed_shop() {
    local url=$1 port pid
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    CHATSHOP_DEMO=true DATABASE_URL="$url" CHATSHOP_BIND="127.0.0.1:$port" CHATSHOP_MAIL_DIR="$work/mail" "$BIN" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    kill "$pid"
    wait "$pid" || true
}

# One statement: $orders orders created 2.5 s apart from 2026-10-01 00:00 in
# UTC-3, paid, with one line each. $1: rows (i, printf_id) for i = 1..$orders;
# $2: a printf pattern turning seconds after the start into a timestamp.
generate_sql() {
    local series=$1 ts=$2
    cat <<SQL
INSERT INTO orders (id, shop_id, number, status, source, customer_name, customer_whatsapp,
    subtotal_cents, shipping_cents, discount_cents, total_cents, paid_cents, refunded_cents,
    pay_token, expires_at, created_at, paid_at, updated_at)
SELECT printf_id, s.id, 100000 + i, 'paid', 'api', 'Ana Souza', '5511988887777',
    4590 + (i % 100), 0, 0, 4590 + (i % 100), 4590 + (i % 100), 0,
    'bench-token-' || i, $(printf "$ts" "i * 5 / 2 + 1800"), $(printf "$ts" "i * 5 / 2"),
    $(printf "$ts" "i * 5 / 2 + 60"), $(printf "$ts" "i * 5 / 2 + 60")
FROM ($series) AS g, (SELECT id FROM shops LIMIT 1) AS s;
INSERT INTO order_lines (order_id, line_no, shop_id, product_id, retailer_id, name, unit_price_cents, quantity, amount_cents)
SELECT o.id, 1, o.shop_id, p.id, p.retailer_id, 'Bolo de Chocolate', o.total_cents, 1, o.total_cents
FROM orders o, (SELECT id, retailer_id FROM products LIMIT 1) AS p;
SQL
}

median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

# Runs `cmd...` under /usr/bin/time; prints "seconds max_rss_kb".
timed() {
    /usr/bin/time -v "$@" 2>"$work/time.txt" >/dev/null || { cat "$work/time.txt" >&2; return 1; }
    python3 - "$work/time.txt" <<'PY'
import sys
text = open(sys.argv[1]).read()
def field(name):
    return next(l.split(": ", 1)[1] for l in text.splitlines() if l.strip().startswith(name))
wall = field("Elapsed (wall clock) time").split(":")
seconds = sum(float(p) * 60 ** i for i, p in enumerate(reversed(wall)))
print(seconds, field("Maximum resident set size (kbytes)"))
PY
}

for engine in $engines; do
    if [ "$engine" = sqlite ]; then
        url="$work/bench.db"
        seed_shop "$url"
        series="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $orders) SELECT i, printf('00000000-0000-7000-8000-%012d', i) AS printf_id FROM n"
        started=$(date +%s.%N)
        generate_sql "$series" "datetime('2026-10-01 03:00:00', '+' || (%s) || ' seconds')" | sqlite3 "$url"
        baseline=(sqlite3 -csv "$url" "SELECT * FROM orders o JOIN order_lines l ON l.order_id = o.id ORDER BY o.created_at")
    else
        db="chatshop_bench_exports_$$"
        psql -q "$pg/postgres" -c "CREATE DATABASE $db" >/dev/null
        url="$pg/$db"
        trap 'rm -rf "$work"; psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db" >/dev/null' EXIT
        seed_shop "$url"
        series="SELECT i, '00000000-0000-7000-8000-' || lpad(i::text, 12, '0') AS printf_id FROM generate_series(1, $orders) AS i"
        started=$(date +%s.%N)
        generate_sql "$series" "(TIMESTAMP '2026-10-01 03:00:00' + ((%s) * INTERVAL '1 second'))" | psql -q -v ON_ERROR_STOP=1 "$url" >/dev/null
        psql -q "$url" -c "ANALYZE" >/dev/null
        baseline=(psql -q "$url" -c "\\copy (SELECT * FROM orders o JOIN order_lines l ON l.order_id = o.id ORDER BY o.created_at) TO STDOUT CSV")
    fi
    if [ "$engine" = sqlite ]; then
        shop=$(sqlite3 "$url" "SELECT id FROM shops LIMIT 1")
    else
        shop=$(psql -qtA "$url" -c "SELECT id FROM shops LIMIT 1")
    fi
    echo "$engine: $orders orders generated in $(python3 -c "import time; print(round(time.time() - $started, 1))") s"
    for run in $(seq 1 "$runs"); do
        read -r s kb < <(timed "${baseline[@]}")
        echo "$engine baseline $run $s $kb" | tee -a "$results"
        for format in csv xlsx; do
            read -r s kb < <(DATABASE_URL="$url" timed "$BIN" export orders --shop "$shop" \
                --from 2026-10-01 --to 2026-10-31 --format "$format" --out "$work/orders.$format")
            echo "$engine $format $run $s $kb" | tee -a "$results"
        done
    done
    ls -l "$work"/orders.* | awk '{print "  " $5 " bytes  " $9}'
    rows=$(($(wc -l <"$work/orders.csv") - 2))
    [ "$rows" = "$orders" ] || { echo "the CSV has $rows rows, not $orders" >&2; exit 1; }
done

echo
echo "medians of $runs runs, $orders orders (rows/s = orders / wall time; RSS in MiB):"
for engine in $engines; do
    base=$(median $(awk -v e="$engine" '$1 == e && $2 == "baseline" {print $4}' "$results"))
    for format in csv xlsx; do
        s=$(median $(awk -v e="$engine" -v f="$format" '$1 == e && $2 == f {print $4}' "$results"))
        kb=$(median $(awk -v e="$engine" -v f="$format" '$1 == e && $2 == f {print $5}' "$results"))
        python3 -c "print(f'$engine $format: {$orders / $s:,.0f} rows/s ({$s:.2f} s), peak RSS {$kb / 1024:.1f} MiB, {$s / $base:.2f}x the baseline ({$base:.2f} s)')"
    done
done
