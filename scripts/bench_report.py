#!/usr/bin/env python3
"""Helpers for scripts/bench: generate scaled G-code, time commands, write the report."""
import gzip
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SIZES = {"1MB": 1_000_000, "50MB": 50_000_000, "500MB": 500_000_000}


def generate(source, out_dir):
    """Keeps the real file's head (up to the first move) and tail (stats and config), and
    repeats its body until the file reaches each size."""
    data = Path(source).read_bytes()
    start = data.find(b"\nG1 ")
    tail_at = data.find(b"\n; filament used [mm]")
    tail_at = data.rfind(b"\nM84", 0, tail_at) if tail_at > 0 else len(data) - 40_000
    head, body, tail = data[: start + 1], data[start + 1 : tail_at + 1], data[tail_at + 1 :]
    for label, size in SIZES.items():
        path = Path(out_dir) / f"scaled_{label}.gcode"
        with open(path, "wb") as f:
            f.write(head)
            written = len(head) + len(tail)
            while written < size:
                chunk = body[: size - written]
                f.write(chunk)
                written += len(chunk)
            f.write(tail)


def timed_runs(argv, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        done = subprocess.run(argv, capture_output=True)
        times.append((time.perf_counter() - t) * 1000)
        if done.returncode != 0:
            return None, done
    return times, done


def cli(binary, *files):
    for path in files:
        times, done = timed_runs([binary, "inspect", "--json", path], 15)
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(json.dumps({
            "file": Path(path).name,
            "median_ms": statistics.median(times) if times else None,
            "min_ms": min(times) if times else None,
            "max_ms": max(times) if times else None,
            "peak_rss_kb_so_far": peak_kb,
        }))


def moonraker(script, *files):
    for path in files:
        argv = [sys.executable, script, "-p", str(Path(path).parent), "-f", Path(path).name]
        times, done = timed_runs(argv, 5)
        fields = None
        if times:
            try:
                found = json.loads(done.stdout.decode().strip().splitlines()[-1])
                meta = found.get("metadata", found)
                fields = sum(1 for v in meta.values() if v not in (None, "", [], {}))
            except (ValueError, IndexError, AttributeError):
                pass
        print(json.dumps({
            "file": Path(path).name,
            "median_ms": statistics.median(times) if times else None,
            "fields": fields,
        }))


def read_jsonl(path):
    p = Path(path)
    if not p.exists():
        return {}
    return {r["file"]: r for r in map(json.loads, p.read_text().splitlines()) if r}


def sh(*argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def report(work, root):
    work, root = Path(work), Path(root)
    inspect = read_jsonl(work / "inspect.jsonl")
    cli_runs = read_jsonl(work / "cli.jsonl")
    moon = read_jsonl(work / "moonraker.jsonl")
    assets = root / "dist" / "assets"
    sizes = {}
    for f in sorted(assets.iterdir()):
        raw = f.read_bytes()
        sizes[f.name] = {"bytes": len(raw), "gzip_bytes": len(gzip.compress(raw, 9))}
    # The barcode decoder (scanner-*) loads only when the Scan screen opens.
    first_screen_gz = sum(v["gzip_bytes"] for n, v in sizes.items() if not n.startswith("scanner-"))
    scan_path = work / "scan.json"
    scan = json.loads(scan_path.read_text()) if scan_path.exists() else None

    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    figures = {
        "machine": {"cpu": cpu, "cores": os.cpu_count(),
                    "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                    "os": platform.platform()},
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": sh("git", "-C", str(root), "rev-parse", "--short", "HEAD"),
        "inspect": inspect, "inspect_cli": cli_runs, "moonraker": moon, "bundle": sizes,
        "scan_decode": scan,
    }
    budgets = []
    gcode = {k: v for k, v in inspect.items() if k.startswith("scaled_")}
    for name, r in sorted(gcode.items(), key=lambda kv: kv[1]["bytes"]):
        budgets.append((f"inspect {name} under 5 ms (in page cache)", r["median_ms"] < 5,
                        f"{r['median_ms']:.2f} ms"))
    if "scaled_1MB.gcode" in gcode and "scaled_500MB.gcode" in gcode:
        ratio = gcode["scaled_500MB.gcode"]["median_ms"] / gcode["scaled_1MB.gcode"]["median_ms"]
        budgets.append(("inspect time flat in file size (500 MB / 1 MB)", ratio < 3, f"x{ratio:.2f}"))
    budgets.append(("everything the first screen loads under 1 MB gzipped", first_screen_gz < 1_000_000,
                    f"{first_screen_gz / 1000:.0f} kB"))
    if scan:
        qr = scan["frames"]["qr"]
        budgets.append(("scan decode under 30 ms per 640x480 frame (QR, rxing in wasm)", qr["median_ms"] < 30 and bool(qr["found"]),
                        f"{qr['median_ms']:.1f} ms"))
    if moon:
        for name, m in moon.items():
            ours = inspect.get(name)
            if ours and m.get("median_ms"):
                speedup = m["median_ms"] / ours["median_ms"]
                # Field counts are shown side by side; their schemas differ, so the budget is speed.
                budgets.append((f"{name}: at least 20x faster than Moonraker", speedup >= 20,
                                f"x{speedup:.0f} (non-empty fields: ours {ours['fields']}, Moonraker {m.get('fields')})"))
    figures["budgets"] = [{"budget": b, "met": ok, "figure": f} for b, ok, f in budgets]
    (root / "benchmarks.json").write_text(json.dumps(figures, indent=2) + "\n")

    m = figures["machine"]
    lines = [
        "# PrintStall benchmarks", "",
        f"Written by `scripts/bench` on {figures['date']} at commit `{figures['commit']}`; "
        f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB. Figures are medians with the "
        "range (min to max) of the runs. The same figures are in `benchmarks.json`.", "",
        "## Budgets", "", "| budget | figure | met |", "|---|---|---|",
    ]
    lines += [f"| {b['budget']} | {b['figure']} | {'yes' if b['met'] else '**no**'} |" for b in figures["budgets"]]
    lines += ["", "## Sliced-file metadata (`slicefile::inspect`, in process, 25 runs)", "",
              "| file | size | median | range | MB/s | fields found |", "|---|---:|---:|---:|---:|---:|"]
    for name, r in inspect.items():
        lines.append(f"| {name} | {r['bytes'] / 1e6:.1f} MB | {r['median_ms']:.2f} ms | "
                     f"{r['min_ms']:.2f}–{r['max_ms']:.2f} ms | {r['mb_per_s']:,.0f} | {r['fields']} |")
    lines += ["", "## `printstall inspect --json FILE` (whole command, 15 runs)", "",
              "| file | median | range |", "|---|---:|---:|"]
    for name, r in cli_runs.items():
        lines.append(f"| {name} | {r['median_ms']:.1f} ms | {r['min_ms']:.1f}–{r['max_ms']:.1f} ms |")
    peak = max((r["peak_rss_kb_so_far"] for r in cli_runs.values()), default=0)
    lines += ["", f"Peak RSS of `printstall inspect` over all files, the 500 MB one included: "
              f"{peak / 1024:.1f} MiB.", ""]
    if moon:
        lines += ["## Moonraker's metadata.py on the same files", "", "| file | Moonraker | PrintStall | fields (Moonraker / PrintStall) |", "|---|---:|---:|---:|"]
        for name, r in moon.items():
            ours = inspect.get(name, {})
            lines.append(f"| {name} | {r['median_ms'] or 0:.1f} ms | {ours.get('median_ms', 0):.2f} ms | {r['fields']} / {ours.get('fields')} |")
        lines.append("")
    else:
        lines += ["Moonraker's extractor was not run: set `MOONRAKER_METADATA` to its `metadata.py`.", ""]
    lines += ["## The web app bundle", "", "| file | bytes | gzipped |", "|---|---:|---:|"]
    lines += [f"| {n} | {s['bytes']:,} | {s['gzip_bytes']:,} |" for n, s in sizes.items()]
    if scan:
        lines += ["", f"## Barcode decoding in the browser (rxing in wasm, {scan['width']}x{scan['height']} frames, "
                  f"{scan['frames']['qr']['runs']} runs each, headless Chromium)", "",
                  f"The decoder is its own module ({scan['wasm_bytes']:,} bytes), loaded only when Scan opens.", "",
                  "| frame | found | median | range |", "|---|---|---:|---:|"]
        for name, r in scan["frames"].items():
            lines.append(f"| {name} | {(r['found'] or 'nothing').replace(chr(10), ': ')} | {r['median_ms']:.1f} ms | "
                         f"{r['min_ms']:.1f}–{r['max_ms']:.1f} ms |")
    lines += ["", "## Not measured yet", "",
              "Sync throughput and fresh-device pull, the API under load (64/256 connections), the "
              "browser's first render from the service-worker cache, local search over 5,000 products, "
              "and server memory under load and export: these need the sync "
              "and export features, which have not landed yet.", ""]
    (root / "BENCHMARKS.md").write_text("\n".join(lines))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"generate": generate, "cli": cli, "moonraker": moonraker, "report": report}[command](*args)
