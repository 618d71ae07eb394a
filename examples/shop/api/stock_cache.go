package main

import (
	"context"
	"log"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Stock levels are cached in Redis next to a version the gateway uses to discard stale updates.
type StockCache struct{ rdb *redis.Client }

type CachedStock struct {
	SKU       string
	Available int
	Version   int64
	UpdatedAt time.Time
}

// The version is the API host's clock: two API replicas a few milliseconds apart can write a newer level
// with a smaller version, and the gateway keeps the older one.
func (c *StockCache) Publish(ctx context.Context, level CachedStock) error {
	level.Version = time.Now().UnixNano()
	level.UpdatedAt = time.Now()
	return c.rdb.HSet(ctx, "stock:"+level.SKU,
		"available", level.Available,
		"version", level.Version).Err()
}

// Clean: the version comes from a counter Redis increments atomically.
func (c *StockCache) PublishVersioned(ctx context.Context, level CachedStock) error {
	version, err := c.rdb.Incr(ctx, "stock-version:"+level.SKU).Result()
	if err != nil {
		return err
	}
	level.Version = version
	return c.rdb.HSet(ctx, "stock:"+level.SKU, "available", level.Available, "version", level.Version).Err()
}

// The restock job holds a lease whose expiry another replica wrote with its own clock.
func (c *StockCache) RestockLeaseExpired(ctx context.Context) bool {
	expires, err := c.rdb.Get(ctx, "restock-lease-expires").Int64()
	if err != nil {
		return true
	}
	return time.Now().Unix() > expires
}

// Invalidation is best-effort in the author's mind; when Redis is failing over, stale levels stay cached.
func (c *StockCache) Invalidate(ctx context.Context, sku string) {
	_ = c.rdb.Del(ctx, "stock:"+sku).Err()
}

// Clean: the failure is logged with the SKU.
func (c *StockCache) InvalidateLogged(ctx context.Context, sku string) {
	if err := c.rdb.Del(ctx, "stock:"+sku).Err(); err != nil {
		log.Printf("invalidate stock %s: %v", sku, err)
	}
}

// Waits for a warehouse sync with Unix seconds: an NTP step during the wait ends it early or never.
func waitForSync(synced func() bool, timeoutSecs int64) bool {
	start := time.Now().Unix()
	for !synced() {
		if time.Now().Unix()-start > timeoutSecs {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// Clean: time.Since uses the monotonic reading time.Now() carries.
func waitForSyncMonotonic(synced func() bool, timeout time.Duration) bool {
	start := time.Now()
	for !synced() {
		if time.Since(start) > timeout {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

func skuKey(sku string, n int) string {
	return sku + ":" + strconv.Itoa(n)
}
