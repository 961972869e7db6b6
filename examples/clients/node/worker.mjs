// A worker for export items: claim, heartbeat, complete or fail.
//
// usage: BULKJOBS_URL=... BULKJOBS_TOKEN=bj_... BULKJOBS_ARTIFACTS=/var/lib/bulkjobs/artifacts \
//        node worker.mjs [--drain]
//
// The token needs the work scope. Stage 0 items write one table each as CSV
// under the artifacts root; the stage 1 item "merge" joins them into
// export.csv, which becomes the job's artifact. A bad table name fails the
// item for good; any other error is retried. --drain stops when nothing is due.
// Only what Node.js 18+ ships: fetch.
import { randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile, appendFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const base = process.env.BULKJOBS_URL.replace(/\/$/, "");
const token = process.env.BULKJOBS_TOKEN;
const root = process.env.BULKJOBS_ARTIFACTS;
const worker = `${hostname()}-${process.pid}`;

// The item was taken back (lease ran out, job cancelled): drop it.
class LeaseLost extends Error {}
// A failure no retry can fix.
class Permanent extends Error {}

// One API call, retried on 503 and lost connections: every worker call is safe to retry.
async function api(path, body, headers = {}) {
  for (let attempt = 1; ; attempt++) {
    let res;
    try {
      res = await fetch(base + path, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30000),
      });
    } catch (err) {
      if (attempt === 5) throw err;
      await sleep(1000);
      continue;
    }
    if (res.ok) return res.json();
    if (res.status === 409) throw new LeaseLost((await res.json()).error.message);
    if (res.status !== 503 || attempt === 5) {
      console.error(`POST ${path}: ${res.status} ${await res.text()}`);
      process.exit(1);
    }
    await sleep(1000 * Number(res.headers.get("Retry-After") ?? 1));
  }
}

// Do one item; the artifact's path relative to the root.
async function work(item, beat) {
  const dir = `exports/${item.job_id}`;
  await mkdir(join(root, dir), { recursive: true });
  if (item.key === "merge") {
    const { tables } = item.payload;
    const out = join(root, dir, "export.csv");
    await writeFile(out, "");
    for (const [n, table] of tables.entries()) {
      await appendFile(out, await readFile(join(root, dir, `${table}.csv`)));
      await beat(n + 1, tables.length);
    }
    return `${dir}/export.csv`;
  }
  const { table } = item.payload;
  if (!/^[a-z_]+$/.test(table)) throw new Permanent(`no such table: ${table}`);
  const rows = [0, 1, 2].map((i) => `${table},${i}\n`).join("");
  await writeFile(join(root, dir, `${table}.csv`), `table,row\n${rows}`);
  await beat(1, 1);
  return `${dir}/${table}.csv`;
}

const drain = process.argv.includes("--drain");
for (;;) {
  // one key per claim: a retry after a lost answer gets the same items back
  const { items } = await api("/v1/claims",
    { worker, kinds: ["export"], limit: 5, lease_seconds: 60 },
    { "Idempotency-Key": randomUUID() });
  if (items.length === 0) {
    if (drain) break;
    await sleep(2000);
    continue;
  }
  for (const item of items) {
    const lease = item.lease_token;
    const path = `/v1/items/${item.id}`;
    const beat = async (done, total) => {
      const { job_state } = await api(`${path}/heartbeat`,
        { lease_token: lease, progress: { done, total } });
      if (job_state === "cancelled") throw new LeaseLost("the job was cancelled");
    };
    try {
      await beat(0, 1);
      const artifact = await work(item, beat);
      await api(`${path}/complete`, { lease_token: lease, artifact });
      console.log(`completed item ${item.id} (${item.key})`);
    } catch (err) {
      if (err instanceof LeaseLost) {
        console.log(`dropped item ${item.id}: ${err.message}`);
        continue;
      }
      try {
        await api(`${path}/fail`,
          { lease_token: lease, error: err.message, retryable: !(err instanceof Permanent) });
        console.log(`failed item ${item.id}: ${err.message}`);
      } catch (gone) {
        if (!(gone instanceof LeaseLost)) throw gone;
      }
    }
  }
}
