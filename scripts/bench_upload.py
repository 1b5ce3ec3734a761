#!/usr/bin/env python3
"""The server's memory while a large sliced file is uploaded and completed, for scripts/bench:
measures, never asserts.

    bench_upload.py PRINTSTALL_BIN PWA_DIR GCODE_FILE OUT_JSON

Starts `printstall serve` (release build, the embedded PostgreSQL and the local file store in
a temporary data folder), then uploads GCODE_FILE (the 500 MB scaled G-code) to a variant
three times the way the app does: presigned multipart PUTs of 8 MiB, then
`POST /uploads/{id}/complete`, where the server streams the object for its size and SHA-256
and reads its metadata through ranged reads. The server's resident memory (VmRSS) is sampled
every 5 ms during the PUTs and during the completion; the figures are the peaks of each run,
the resident memory before the first upload, and the process's own peak (VmHWM) at the end.
"""
import hashlib
import json
import os
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import call, peak_rss_kb, register, start_server, stop_server, wait_ready  # noqa: E402

RUNS = int(os.environ.get("BENCH_UPLOAD_RUNS", "3"))


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """The highest VmRSS of `pid` seen until stop()."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.005)

    def stop(self):
        self.done.set()
        self.join()
        return max(self.peak, rss_kb(self.pid))


def put(url, data):
    req = urllib.request.Request(url, method="PUT", data=data)
    req.add_header("Content-Type", "application/octet-stream")
    with urllib.request.urlopen(req, timeout=300) as r:
        r.read()


def main(binary, pwa_dir, path, out_json):
    data = Path(path).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    server, base, work = start_server(binary, pwa_dir, "upload")
    try:
        wait_ready(base, server)
        token = register(base, "upload@example.com")
        filament = call(base, "POST", "/api/v1/filaments", {
            "brand": "Prusament", "material": "pla", "colour": {"name": "Orange", "hex": "#ff8000"},
            "diameter": "1.75", "density_mg_cm3": 1240, "net_weight_cg": 100000,
            "empty_spool_cg": 20000, "price_per_spool": 2499, "ean": "4006381333931"}, token)["id"]
        model = call(base, "POST", "/api/v1/models", {
            "name": "Bench", "source_site": "printables",
            "licence": {"name": "CC-BY-4.0", "allows_selling": True}}, token)["id"]
        variant = call(base, "POST", "/api/v1/variants", {
            "model_id": model, "name": "Large", "parts_per_plate": 1, "print_time_s": 3600,
            "slicer_settings": {"layer_height": "0.2"},
            "filament_needs": [{"filament_id": filament, "per_unit_cg": 1250}]}, token)["id"]
        baseline = rss_kb(server.pid)
        runs = []
        for i in range(RUNS):
            started = call(base, "POST", f"/api/v1/variants/{variant}/files", {
                "file_name": f"scaled-{i}.gcode", "size_bytes": len(data), "sha256": sha}, token)
            sampler = Sampler(server.pid)
            sampler.start()
            t = time.perf_counter()
            size = started["multipart"]["part_size_bytes"]
            for p in started["multipart"]["parts"]:
                start = (p["number"] - 1) * size
                put(p["url"], data[start:start + size])
            put_s = time.perf_counter() - t
            put_peak = sampler.stop()
            sampler = Sampler(server.pid)
            sampler.start()
            t = time.perf_counter()
            done = call(base, "POST", f"/api/v1/uploads/{started['upload_id']}/complete", {}, token)
            complete_s = time.perf_counter() - t
            complete_peak = sampler.stop()
            assert done["sha256"] == sha and done["metadata"]["format"] == "gcode", done
            runs.append({"put_s": put_s, "complete_s": complete_s,
                         "peak_rss_put_kb": put_peak, "peak_rss_complete_kb": complete_peak})
            print(f"  upload {i + 1}: PUT {put_s:.1f} s (peak {put_peak / 1024:.0f} MiB), "
                  f"complete {complete_s:.2f} s (peak {complete_peak / 1024:.0f} MiB)", file=sys.stderr)
        result = {"file": Path(path).name, "bytes": len(data), "runs": runs,
                  "baseline_rss_kb": baseline, "server_peak_rss_kb": peak_rss_kb(server.pid)}
        Path(out_json).write_text(json.dumps(result, indent=2) + "\n")
    finally:
        stop_server(server, work)

if __name__ == "__main__":
    main(*sys.argv[1:])
