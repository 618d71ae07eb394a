export async function loadProfile(id: string): Promise<unknown> {
  // distsys-review: ignore[BKP001] the cache below is bounded
  const cache = new Map<string, unknown>();
  return cache.get(id);
}
