#!/usr/bin/env python3
"""The API under load, for scripts/bench: measures, never asserts.

    bench_api.py PRINTSTALL_BIN PWA_DIR OUT_JSON

Starts `printstall serve` (release build) on its own embedded PostgreSQL cluster in a temporary
data folder, seeds one shop with 5,000 products, then drives three endpoints with wrk (Debian's
package) on loopback at 64 and 256 connections for 20 s each:
  - product search   GET  /api/v1/products?q=<word>&limit=20
  - record a sale    POST /api/v1/sales (a new sale id per request, so every request writes)
  - sync pull        GET  /api/v1/sync/pull?limit=200 (the first page: the heaviest read)
and, first, the health check (no token, no database): the ceiling of the machine itself,
and one product read by its id: the floor of any request that reads the database. Writes
requests/s, p50/p99/p99.9 latency, the error count (socket errors plus non-2xx answers) and
the server's peak RSS (VmHWM) to OUT_JSON.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PRODUCTS = 5000
DURATION_S = int(os.environ.get("BENCH_API_SECONDS", "20"))
CONNECTIONS = (64, 256)
THREADS = 2

# wrk's Lua: a done() hook that prints the figures as one JSON line, and for sales a request()
# hook that makes a fresh sale id (UUIDv4) for every request.
DONE_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "p999_us": %d, ' ..
    '"socket_errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), e.connect + e.read + e.write + e.timeout, e.status))
end
"""

SALE_LUA = r"""
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
local products = {%PRODUCTS%}
local function uuid4()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end
request = function()
  local p = products[math.random(#products)]
  local body = '{"id":"' .. uuid4() .. '","lines":[{"product_id":"' .. p ..
    '","quantity":1,"unit_price":1500}],"payment_method":"cash"}'
  -- A headers table replaces wrk.headers (the -H ones), so it copies them.
  local headers = {["Content-Type"] = "application/json"}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  return wrk.format("POST", "/api/v1/sales", headers, body)
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, token=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def wait_ready(base, proc):
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"printstall serve exited with {proc.returncode}")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise SystemExit("printstall serve did not become healthy in 60 s")


def peak_rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run_wrk(base, path, token, connections, lua_text, work):
    script = Path(work) / "wrk.lua"
    script.write_text(lua_text + DONE_LUA)
    argv = ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{DURATION_S}s", "--timeout", "10s",
            "-H", f"Authorization: Bearer {token}", "-s", str(script), base + path]
    out = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    return {
        "connections": connections,
        "requests": figures["requests"],
        "rps": figures["requests"] / (figures["duration_us"] / 1e6),
        "p50_ms": figures["p50_us"] / 1000, "p99_ms": figures["p99_us"] / 1000,
        "p999_ms": figures["p999_us"] / 1000,
        "errors": figures["socket_errors"] + figures["non_2xx"],
    }


def start_server(binary, pwa_dir, name):
    """`printstall serve` on a free port with its own embedded cluster and local file store in
    a temporary folder: (process, base URL, folder)."""
    work = tempfile.mkdtemp(prefix=f"printstall-bench-{name}-")
    os.chmod(work, 0o755)  # the embedded cluster runs as the postgres user
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "S3_"))}
    env.update(PORT=str(port), HOST="127.0.0.1", PRINTSTALL_DATA_DIR=str(Path(work) / "data"),
               PRINTSTALL_PWA_DIR=pwa_dir, RUST_LOG="warn",
               # The load is one user on purpose; the request limits would answer 429.
               PRINTSTALL_REQUESTS_PER_MINUTE_USER="0", PRINTSTALL_REQUESTS_PER_MINUTE_SHOP="0")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=open(Path(work) / "server.log", "w"))
    return server, base, work


def stop_server(server, work):
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    shutil.rmtree(work, ignore_errors=True)


def register(base, email):
    """A new account with its own shop: its access token."""
    return call(base, "POST", "/api/v1/auth/register", {
        "email": email, "display_name": "Bench", "password": "benchmark password",
        "shop": {"name": "Bench stall", "currency": "EUR", "time_zone": "Europe/Berlin",
                 "tax_rate_bp": 1900}})["access_token"]


def main(binary, pwa_dir, out_json):
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (scripts/setup installs it)")
    server, base, work = start_server(binary, pwa_dir, "api")
    try:
        wait_ready(base, server)
        token = register(base, "bench@example.com")
        words = ["rex", "dragon", "octopus", "vase", "fidget", "planter", "lamp", "keychain"]

        def make(i):
            return call(base, "POST", "/api/v1/products", {
                "sku": f"B-{i:05}", "name": f"{words[i % len(words)].title()} {i}", "price": 1500,
                "barcode": f"400{i:010}"}, token)["id"]

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(make, range(PRODUCTS)))
        # One sale by hand first, so that a request the server refuses fails here, loudly.
        call(base, "POST", "/api/v1/sales", {"lines": [{"product_id": ids[0], "quantity": 1,
                                                        "unit_price": 1500}],
                                             "payment_method": "cash"}, token)
        sale_lua = SALE_LUA.replace("%PRODUCTS%", ",".join(f'"{i}"' for i in ids[:200]))
        # The ceiling: the health check reads no token and no database, so its figures are
        # what this machine's cores, HTTP stack and wrk allow before any work of ours.
        endpoints = [("health check (no database: the ceiling)", "/healthz", ""),
                     # The least a request that reads the database does: token, session,
                     # transaction, one row by its key.
                     ("one product by id (one row: the floor)", f"/api/v1/products/{ids[7]}", ""),
                     ("product search", "/api/v1/products?q=dragon&limit=20", ""),
                     ("record sale", "/api/v1/sales", sale_lua),
                     ("sync pull", "/api/v1/sync/pull?limit=200", "")]
        runs = []
        for name, path, lua in endpoints:
            for c in CONNECTIONS:
                r = run_wrk(base, path, token, c, lua, work)
                r["endpoint"] = name
                print(f"  {name} at {c} connections: {r['rps']:.0f} req/s, p99 {r['p99_ms']:.1f} ms, "
                      f"errors {r['errors']}", file=sys.stderr)
                runs.append(r)
        result = {"products": PRODUCTS, "duration_s": DURATION_S, "runs": runs,
                  "server_peak_rss_kb": peak_rss_kb(server.pid)}
        Path(out_json).write_text(json.dumps(result, indent=2) + "\n")
    finally:
        stop_server(server, work)


if __name__ == "__main__":
    main(*sys.argv[1:])
