#!/usr/bin/env python3
"""Moonraker's metadata extractor beside ours, for scripts/bench.

Moonraker's `metadata.py` (moonraker/components/file_manager/metadata.py) runs standalone. It is
timed in process, like our `slicefile::inspect` bench: the module is imported once and
`extract_metadata(path, [])` is timed over several runs, so Python's start-up is not counted
against it. Its whole-command time is reported too, beside ours.

The two extractors name things differently, so their fields are compared as facts: each fact
is a question both can answer ("the print time", "the filament colours"), with where each
keeps the answer. The budget asks that we find every fact Moonraker finds.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _filled(v):
    return v not in (None, "", [], {}, "?", "Unknown")


def _any(key):
    return lambda ours: any(_filled(f.get(key)) for f in ours.get("filaments") or [])


# fact: (Moonraker's keys, where ours keeps it)
FACTS = {
    "slicer": (["slicer"], lambda o: _filled((o.get("slicer") or {}).get("name"))),
    "slicer version": (["slicer_version"], lambda o: _filled((o.get("slicer") or {}).get("version"))),
    "printer model": (["printer_model"], lambda o: _filled(o.get("printer_model"))),
    "print time": (["estimated_time"], lambda o: _filled(o.get("print_time_s"))),
    "layer height": (["layer_height"], lambda o: _filled(o.get("layer_height_mm"))),
    "first layer height": (["first_layer_height"], lambda o: _filled(o.get("first_layer_height_mm"))),
    "nozzle diameter": (["nozzle_diameter"], lambda o: _filled(o.get("nozzle_diameter_mm"))),
    "layer count": (["layer_count"], lambda o: _filled(o.get("layer_count"))),
    "object height": (["object_height"], lambda o: _filled(o.get("object_height_mm"))),
    "filament length": (["filament_total"], _any("used_mm")),
    "filament weight": (["filament_weight_total", "filament_weights"],
                        lambda o: _filled(o.get("total_filament_g")) or _any("used_g")(o)),
    "filament type": (["filament_type"], _any("type")),
    "filament name": (["filament_name"], _any("name")),
    "filament colours": (["filament_colors", "extruder_colors"], _any("color_hex")),
    "nozzle temperature": (["first_layer_extr_temp", "filament_temps"], _any("nozzle_temp_c")),
    "bed temperature": (["first_layer_bed_temp"], _any("bed_temp_c")),
    "thumbnails": (["thumbnails"], lambda o: _filled(o.get("thumbnails"))),
}


def facts_of_moonraker(meta):
    return sorted(f for f, (keys, _) in FACTS.items() if any(_filled(meta.get(k)) for k in keys))


def facts_of_ours(info):
    return sorted(f for f, (_, found) in FACTS.items() if found(info))


# Runs inside an interpreter that has Pillow (Moonraker imports it): times extract_metadata.
WORKER = r"""
import importlib.util, json, logging, statistics, sys, time
logging.disable(logging.CRITICAL)
spec = importlib.util.spec_from_file_location("moonraker_metadata", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
runs = int(sys.argv[2])
for path in sys.argv[3:]:
    times, meta, error = [], None, None
    for _ in range(runs + 1):  # the first run warms the module's caches; it is not counted
        t = time.perf_counter()
        try:
            meta = mod.extract_metadata(path, [])
        except Exception as e:  # Moonraker's own failure on this file is a result, not a crash
            error = f"{type(e).__name__}: {e}"
            break
        times.append((time.perf_counter() - t) * 1000)
    times = times[1:]
    print(json.dumps({"path": path, "times": times, "meta": meta, "error": error}, default=str))
"""


def python_with_pillow():
    for candidate in (os.environ.get("MOONRAKER_PYTHON"), sys.executable, "/usr/bin/python3"):
        if candidate and Path(candidate).exists():
            probe = subprocess.run([candidate, "-c", "import PIL.Image"], capture_output=True)
            if probe.returncode == 0:
                return candidate
    return None


def run(script, files, runs=5):
    """One JSON line per file: in-process and whole-command times, and the facts it found."""
    python = python_with_pillow()
    if python is None:
        raise SystemExit("Moonraker's metadata.py needs Pillow: set MOONRAKER_PYTHON to a Python that has it")
    # Moonraker writes thumbnails into a `.thumbs` folder beside the file: link the files into
    # a scratch folder so the fixtures stay untouched.
    scratch = Path(tempfile.mkdtemp(prefix="printstall-moonraker-"))
    try:
        linked = []
        for f in files:
            target = scratch / Path(f).name
            os.symlink(Path(f).resolve(), target)
            linked.append(str(target))
        done = subprocess.run([python, "-c", WORKER, script, str(runs), *linked],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"Moonraker's metadata.py failed: {done.stderr[-2000:]}")
        for line in done.stdout.splitlines():
            r = json.loads(line)
            name = Path(r["path"]).name
            whole = []
            for _ in range(runs):
                t = time.perf_counter()
                subprocess.run([python, script, "-p", str(scratch), "-f", name], capture_output=True)
                whole.append((time.perf_counter() - t) * 1000)
            meta = r["meta"] or {}
            print(json.dumps({
                "file": name,
                "median_ms": statistics.median(r["times"]) if r["times"] else None,
                "min_ms": min(r["times"]) if r["times"] else None,
                "max_ms": max(r["times"]) if r["times"] else None,
                "command_median_ms": statistics.median(whole),
                "error": r["error"],
                "facts": facts_of_moonraker(meta),
            }))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2:])
