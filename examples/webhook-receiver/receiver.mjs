#!/usr/bin/env node
// A minimal receiver of Optimizer's webhooks (Standard Webhooks) with no dependencies (Node.js 18+).
// It verifies every delivery before trusting it:
//   webhook-signature = "v1," + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{raw body}")),
//   key = base64-decoded secret after "whsec_"; several space-separated signatures may be sent (key rotation);
//   webhook-timestamp within TOLERANCE_SECONDS of now (replay protection);
//   webhook-id seen before → answered 200 but not processed again (deliveries are at-least-once).
// Each verified event is printed as one JSON line on stdout; rejections go to stderr with the HTTP status sent.
//
//   WEBHOOK_SECRET=whsec_... node examples/webhook-receiver/receiver.mjs            # listens on 127.0.0.1:8787
//   PORT=9000 HOST=0.0.0.0 MAX_EVENTS=1 WEBHOOK_SECRET=... node receiver.mjs      # exit after the first event
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const secret = process.env.WEBHOOK_SECRET ?? "";
if (!secret.startsWith("whsec_")) {
  console.error("error: set WEBHOOK_SECRET to the whsec_... secret that POST /v1/webhooks returned");
  process.exit(2);
}
const key = Buffer.from(secret.slice("whsec_".length), "base64");
const port = Number(process.env.PORT ?? 8787);
const host = process.env.HOST ?? "127.0.0.1";
const toleranceSeconds = Number(process.env.TOLERANCE_SECONDS ?? 300);
const maxEvents = Number(process.env.MAX_EVENTS ?? 0); // 0: run until stopped
const maxBodyBytes = 1024 * 1024;

// Ids already processed. A real receiver keeps them in its database, beside the effect of the event.
const seen = new Set();
let processed = 0;

/** Returns null when the delivery is authentic and fresh, else [status, reason]. */
function verify(headers, body, now = Date.now() / 1000) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) return [400, "missing webhook-id, webhook-timestamp or webhook-signature"];
  if (!/^\d+$/.test(timestamp) || Math.abs(now - Number(timestamp)) > toleranceSeconds) {
    return [400, `timestamp ${timestamp} is outside the ${toleranceSeconds} s tolerance`];
  }
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
  const match = signatures.split(" ").some((entry) => {
    const [version, value] = entry.split(",", 2);
    const given = Buffer.from(value ?? "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
  return match ? null : [401, "no valid v1 signature"];
}

const server = createServer((request, response) => {
  const chunks = [];
  let size = 0;
  request.on("data", (chunk) => {
    size += chunk.length;
    if (size > maxBodyBytes) request.destroy();
    else chunks.push(chunk);
  });
  request.on("end", () => {
    const body = Buffer.concat(chunks); // the raw bytes: re-serialized JSON would not match the signature
    const rejected = request.method !== "POST" ? [405, "only POST"] : verify(request.headers, body);
    if (rejected) {
      console.error(`rejected (${rejected[0]}): ${rejected[1]}`);
      response.writeHead(rejected[0]).end(rejected[1]);
      return;
    }
    const id = request.headers["webhook-id"];
    const duplicate = seen.has(id);
    seen.add(id);
    const event = JSON.parse(body.toString("utf8"));
    console.log(JSON.stringify({ verified: true, duplicate, id, type: event.type, timestamp: event.timestamp, data: event.data }));
    // Answer fast (any 2xx is success); do slow work after answering, or the sender times out and retries.
    response.writeHead(200).end("ok");
    if (!duplicate && maxEvents > 0 && ++processed >= maxEvents) server.close(() => process.exit(0));
  });
});

server.listen(port, host, () => console.error(`listening on http://${host}:${server.address().port}/`));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
