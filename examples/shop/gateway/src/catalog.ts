import pLimit from "p-limit";

const CATALOG = process.env.CATALOG_URL ?? "http://catalog:8000";

async function product(id: string) {
  const res = await fetch(`${CATALOG}/products/${id}`, { signal: AbortSignal.timeout(2_000) });
  return res.json();
}

// A cart page asks for every product of the cart at once: a 500-item wishlist is 500 concurrent requests.
export async function productsFor(ids: string[]) {
  return Promise.all(ids.map(async (id) => product(id)));
}

// The same lookups, at most 8 at a time.
const limit = pLimit(8);
export async function productsForBounded(ids: string[]) {
  return Promise.all(ids.map((id) => limit(() => product(id))));
}
