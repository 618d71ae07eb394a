import Redis from "ioredis";

const redis = new Redis(process.env.REDIS_URL ?? "redis://redis:6379");
const INVENTORY = process.env.INVENTORY_URL ?? "http://inventory:8081";

// Compare-and-delete: the key is removed only while it still holds this holder's token.
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;

// Restocks a SKU under a Redis lock. The lock is released with a plain DEL: if the restock outlives the 10 s
// expiry, another gateway takes the lock and this DEL removes *its* lock, letting a third one in.
export async function restock(sku: string, quantity: number, token: string): Promise<boolean> {
  const key = `lock:restock:${sku}`;
  if ((await redis.set(key, token, "PX", 10_000, "NX")) !== "OK") {
    return false;
  }
  try {
    const res = await fetch(`${INVENTORY}/skus/${sku}/restock`, {
      method: "POST",
      body: JSON.stringify({ quantity }),
      headers: { "content-type": "application/json", "idempotency-key": token },
      signal: AbortSignal.timeout(5_000),
    });
    return res.ok;
  } finally {
    await redis.del(key);
  }
}

// Clean: the same lock, released with the compare-and-delete script; the inventory service is given the
// lock's token as a fencing token and rejects writes carrying an older one.
export async function recount(sku: string, fencingToken: number): Promise<boolean> {
  const key = `lock:recount:${sku}`;
  const token = String(fencingToken);
  if ((await redis.set(key, token, "PX", 10_000, "NX")) !== "OK") {
    return false;
  }
  try {
    const res = await fetch(`${INVENTORY}/skus/${sku}/recount`, {
      method: "POST",
      headers: { "x-fencing-token": token, "idempotency-key": `recount-${sku}-${token}` },
      signal: AbortSignal.timeout(5_000),
    });
    return res.ok;
  } finally {
    await redis.eval(RELEASE, 1, key, token);
  }
}

// Waits for the inventory service to come back after a deploy. The delay grows and is jittered, but nothing
// ever stops the loop: during a long outage every gateway instance keeps a request in flight forever.
export async function waitForInventory(): Promise<void> {
  let delay = 100;
  while (true) {
    try {
      const res = await fetch(`${INVENTORY}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * delay));
    delay = Math.min(delay * 2, 30_000);
  }
}

// Clean: the same wait, capped at eight attempts.
export async function waitForPricing(url: string): Promise<boolean> {
  let delay = 100;
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * delay));
    delay = Math.min(delay * 2, 30_000);
  }
  return false;
}
