// Stock levels shown on product pages, refreshed from the API.

const API = process.env.API_URL ?? "http://api:8080";

interface StockLevel {
  sku: string;
  available: number;
  version: number;
}

const levels = new Map<string, StockLevel>();

// The gateway stamps updates with its own clock: two gateway instances disagree on the order of updates.
export function applyLevel(sku: string, available: number): StockLevel {
  const level = { sku, available, version: Date.now() };
  levels.set(sku, level);
  return level;
}

// Clean: the API's store-assigned version decides which update is newer.
export function applyVersioned(update: StockLevel): void {
  const current = levels.get(update.sku);
  if (!current || update.version > current.version) {
    levels.set(update.sku, update);
  }
}

// A failed refresh is dropped silently: the page keeps showing stale stock with no log line.
export function refresh(sku: string): void {
  fetch(`${API}/stock/${sku}`, { signal: AbortSignal.timeout(2_000) }).catch(() => {});
}

// Clean: the failure is logged.
export function refreshLogged(sku: string): void {
  fetch(`${API}/stock/${sku}`, { signal: AbortSignal.timeout(2_000) }).catch((err) =>
    console.warn(`stock refresh for ${sku} failed`, err),
  );
}

// Waits for the warehouse with the wall clock: a clock step makes the wait end early or run on.
export async function waitForRestock(sku: string, timeoutMs: number): Promise<boolean> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if ((levels.get(sku)?.available ?? 0) > 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

// Clean: performance.now() is monotonic.
export async function waitForRestockMonotonic(sku: string, timeoutMs: number): Promise<boolean> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if ((levels.get(sku)?.available ?? 0) > 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}
