// Submit an export, print its status page, wait for it, download the result.
//
// usage: BULKJOBS_URL=https://example.org/bulkjobs BULKJOBS_TOKEN=bj_... \
//        node export.mjs OUT_FILE [IDEMPOTENCY_KEY]
//
// The token needs the submit scope and belongs to BULKJOBS_OWNER. The
// artifact is downloaded from the job's status page, which sits behind the
// site's own login: BULKJOBS_USER and BULKJOBS_PASSWORD (HTTP Basic). With
// BULKJOBS_WEBHOOK set, the job's end is also posted there, signed.
// Only what Node.js 18+ ships: fetch.
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

const base = process.env.BULKJOBS_URL.replace(/\/$/, "");
const token = process.env.BULKJOBS_TOKEN;
const tables = ["customers", "orders", "invoices"];

// One API call; retried on 503 and lost connections (every call here is safe to retry).
async function api(method, path, body, headers = {}) {
  for (let attempt = 1; ; attempt++) {
    let res;
    try {
      res = await fetch(base + path, {
        method,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30000),
      });
    } catch (err) {
      if (attempt === 5) throw err;
      await sleep(1000);
      continue;
    }
    if (res.ok) return [res.status, await res.json()];
    if (res.status !== 503 || attempt === 5) {
      throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    }
    await sleep(1000 * Number(res.headers.get("Retry-After") ?? 1));
  }
}

// The job if it changed since the answer tagged etag, else null; its tag; the
// seconds to wait. The server answers 304 without a body while nothing
// changed, and says in Poll-Interval how long to wait before asking again.
async function poll(id, etag) {
  const headers = { Authorization: `Bearer ${token}` };
  if (etag) headers["If-None-Match"] = etag;
  let res;
  try {
    res = await fetch(`${base}/v1/jobs/${id}`, { headers, signal: AbortSignal.timeout(30000) });
  } catch {
    return [null, etag, 5]; // a lost connection: ask again later
  }
  const wait = Number(res.headers.get("Poll-Interval") ?? res.headers.get("Retry-After") ?? 5);
  if (res.status === 304 || res.status === 503) return [null, etag, wait];
  if (!res.ok) throw new Error(`GET /v1/jobs/${id}: ${res.status} ${await res.text()}`);
  return [await res.json(), res.headers.get("ETag"), wait];
}

const [out, key = `export-${randomUUID()}`] = process.argv.slice(2);
const spec = {
  kind: "export",
  owner: process.env.BULKJOBS_OWNER ?? "alice",
  title: `Export of ${tables.join(", ")}`,
  items: [
    ...tables.map((table) => ({ key: table, payload: { table } })),
    { key: "merge", stage: 1, payload: { tables } },
  ],
};
if (process.env.BULKJOBS_WEBHOOK) spec.notify = { webhooks: [process.env.BULKJOBS_WEBHOOK] };
// the same key sent again (say, after a timeout) answers the same job
let [status, job] = await api("POST", "/v1/jobs", spec, { "Idempotency-Key": key });
console.log(`job ${job.id} ${status === 201 ? "created" : "already there"}; ` +
  `follow it at ${job.links.status_page}`);

const active = (j) => ["queued", "running", "paused"].includes(j.state);
let etag = null;
while (active(job)) {
  const [got, tag, wait] = await poll(job.id, etag);
  etag = tag;
  if (got === null) {
    console.log(`${job.state}: unchanged`);
  } else {
    job = got;
    console.log(`${job.state}: ${job.counts.succeeded} of ${job.counts.total} items done`);
  }
  if (active(job)) await sleep(1000 * Math.max(wait, 1));
}
if (job.state !== "succeeded") {
  console.error(`the export ended ${job.state}`);
  process.exit(1);
}

const login = Buffer.from(`${process.env.BULKJOBS_USER}:${process.env.BULKJOBS_PASSWORD}`);
const res = await fetch(`${job.links.status_page}/download`, {
  headers: { Authorization: `Basic ${login.toString("base64")}` },
});
if (!res.ok) {
  console.error(`download: ${res.status}`);
  process.exit(1);
}
const bytes = Buffer.from(await res.arrayBuffer());
await writeFile(out, bytes);
console.log(`downloaded ${job.artifact} (${bytes.length} bytes) to ${out}`);
