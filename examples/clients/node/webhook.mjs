// An endpoint for bulkjobs webhooks that verifies their signatures.
//
// usage: BULKJOBS_WEBHOOK_SECRET=whsec_... node webhook.mjs PORT
//
// Standard Webhooks: webhook-signature holds "v1,<base64>" entries; each is
// the HMAC-SHA256, keyed with the base64-decoded secret after "whsec_", of
// "<webhook-id>.<webhook-timestamp>.<body>". A bad signature, or a timestamp
// more than five minutes off (a replay), is refused with 401. In an Express
// app, call verify() with req.headers and the raw body (express.raw()).
// Only what Node.js ships: http and crypto.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const secret = process.env.BULKJOBS_WEBHOOK_SECRET;
const tolerance = 300;

// The event if the delivery is authentic and fresh, else null.
export function verify(headers, body) {
  const id = headers["webhook-id"] ?? "";
  const stamp = headers["webhook-timestamp"] ?? "";
  if (!id || !/^\d+$/.test(stamp) || Math.abs(Date.now() / 1000 - Number(stamp)) > tolerance) {
    return null;
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${stamp}.`).update(body).digest();
  for (const entry of (headers["webhook-signature"] ?? "").split(" ")) {
    const [version, sig = ""] = entry.split(",", 2);
    const given = Buffer.from(sig, "base64");
    if (version === "v1" && given.length === expected.length && timingSafeEqual(given, expected)) {
      return JSON.parse(body);
    }
  }
  return null;
}

createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const event = verify(req.headers, Buffer.concat(chunks));
  if (event === null) {
    console.log("refused: a bad or stale signature");
    res.writeHead(401).end();
    return;
  }
  // deliveries are at least once: a real receiver skips a webhook-id it has seen
  const job = event.data;
  console.log(`${req.headers["webhook-id"]}: job ${job.id} ${event.type} (${job.links.status_page})`);
  res.writeHead(204).end();
}).listen(Number(process.argv[2]), "127.0.0.1");
