import http from "node:http";
import axios from "axios";
import Redis from "ioredis";

const API = process.env.API_URL ?? "http://api:8080";
const redis = new Redis(process.env.REDIS_URL ?? "redis://redis:6379");

// Clean: an axios instance with a timeout.
const recommendations = axios.create({ baseURL: "http://recs:8000", timeout: 2_000 });

export async function placeOrder(body: string, signal: AbortSignal): Promise<Response> {
  // The caller's signal is not passed on: when the client disconnects, the API call goes on.
  return fetch(`${API}/orders`, { method: "POST", body, headers: { "content-type": "application/json" } });
}

export async function getOrder(id: string, signal: AbortSignal): Promise<Response> {
  // Clean: the caller's cancellation and a deadline flow into the call.
  return fetch(`${API}/orders/${id}`, { signal: AbortSignal.any([signal, AbortSignal.timeout(2_000)]) });
}

export async function cartSummary(userId: string) {
  // axios defaults to `timeout: 0` — no timeout at all.
  const cart = await axios.get(`${API}/carts/${userId}`);
  const recs = await recommendations.get(`/for/${userId}`);
  return { cart: cart.data, recs: recs.data };
}

export async function claimCoupon(code: string, userId: string): Promise<boolean> {
  // One redemption per coupon; the key never expires, so a crash after SET leaves the coupon burnt.
  const ok = await redis.set(`coupon:${code}`, userId, "NX");
  return ok === "OK";
}

export async function holdCart(userId: string): Promise<boolean> {
  // Clean: the hold expires after 15 minutes.
  const ok = await redis.set(`hold:${userId}`, "1", "PX", 900_000, "NX");
  return ok === "OK";
}

const server = http.createServer(async (req, res) => {
  res.end("ok");
});
// Node's defaults (requestTimeout 300 s, headersTimeout 60 s) were turned off for long uploads.
server.requestTimeout = 0;
server.headersTimeout = 0;
// No SIGTERM handler: a rolling deploy drops the requests in flight.
server.listen(3000);
