// Starts the real `printstall serve` on a free port against the test database, and stops it.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../../..");

function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

export async function startServer(extraEnv = {}) {
  const bin = process.env.PRINTSTALL_BIN;
  if (!bin) throw new Error("PRINTSTALL_BIN is not set: run the tests through scripts/test");
  if (!process.env.DATABASE_URL) throw new Error("DATABASE_URL is not set: run the tests through scripts/test");
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "printstall-e2e-"));
  const child = spawn(bin, ["serve"], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      PRINTSTALL_DATA_DIR: dataDir,
      PRINTSTALL_PWA_DIR: join(ROOT, "dist"),
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited early:\n${log}`);
    try {
      const answer = await fetch(`${url}/healthz`);
      if (answer.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the server did not become healthy:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
