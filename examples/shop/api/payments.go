package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"sync"
	"time"
)

// ProviderClient talks to the card processor. Its client has a timeout; what goes wrong here is how failed
// calls are repeated, and what is held while they run.
type ProviderClient struct {
	baseURL string
	http    *http.Client
	tokens  *tokenCache
}

func newProviderClient() *ProviderClient {
	client := &http.Client{Timeout: 5 * time.Second}
	return &ProviderClient{
		baseURL: "https://cards.provider.example",
		http:    client,
		tokens:  &tokenCache{client: client, url: "https://auth.provider.example/token"},
	}
}

// Capture repeats a failed capture every 200 ms, with no idempotency key: when the processor is overloaded,
// every API instance hits it again in lockstep, and a capture whose response was lost on the way back is
// taken a second time.
func (p *ProviderClient) Capture(ctx context.Context, orderID string, amount int64) error {
	body := []byte(fmt.Sprintf(`{"order":%q,"amount":%d}`, orderID, amount))
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.baseURL+"/captures", bytes.NewReader(body))
		if err != nil {
			return err
		}
		resp, err := p.http.Do(req)
		if err != nil {
			lastErr = err
			time.Sleep(200 * time.Millisecond)
			continue
		}
		resp.Body.Close()
		return nil
	}
	return lastErr
}

// Refund doubles its delay but every instance waits exactly as long as the others: after an outage of the
// processor they all come back in the same millisecond.
func (p *ProviderClient) Refund(ctx context.Context, orderID string, amount int64) error {
	body := []byte(fmt.Sprintf(`{"order":%q,"amount":%d}`, orderID, amount))
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.baseURL+"/refunds", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Idempotency-Key", "refund-"+orderID)
		resp, err := p.http.Do(req)
		if err != nil {
			lastErr = err
			time.Sleep(time.Duration(1<<attempt) * 100 * time.Millisecond)
			continue
		}
		resp.Body.Close()
		return nil
	}
	return lastErr
}

// Clean: one idempotency key for all attempts, a capped exponential delay with full jitter, and the caller's
// cancellation honoured while waiting.
func (p *ProviderClient) Void(ctx context.Context, orderID string) error {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.baseURL+"/voids/"+orderID, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Idempotency-Key", "void-"+orderID)
		resp, err := p.http.Do(req)
		if err != nil {
			lastErr = err
			ceiling := time.Duration(1<<attempt) * 100 * time.Millisecond
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(rand.Int63n(int64(ceiling)))):
			}
			continue
		}
		resp.Body.Close()
		return nil
	}
	return lastErr
}

// Healthy looks at the status code only and never closes the body: every probe of the processor leaves a
// connection out of the pool.
func (p *ProviderClient) Healthy(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.baseURL+"/health", nil)
	if err != nil {
		return false
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return false
	}
	return resp.StatusCode == http.StatusOK
}

// awaitSettlement waits for the processor's webhook to settle a capture. It ignores the caller's context: a
// request whose client gave up keeps its goroutine until the webhook arrives, if it ever does.
func awaitSettlement(ctx context.Context, settled <-chan string, failed <-chan error) (string, error) {
	select {
	case id := <-settled:
		return id, nil
	case err := <-failed:
		return "", err
	}
}

// Clean: the same wait, given up when the caller's context ends.
func awaitRefund(ctx context.Context, settled <-chan string, failed <-chan error) (string, error) {
	select {
	case id := <-settled:
		return id, nil
	case err := <-failed:
		return "", err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// tokenCache keeps the processor's OAuth token.
type tokenCache struct {
	mu     sync.Mutex
	token  string
	expiry time.Time
	client *http.Client
	url    string
}

// Get refreshes the token under the mutex after re-checking the expiry: a single flight (waiters need the new
// token anyway), which LCK004's docs call intended and do not report.
func (t *tokenCache) Get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if time.Now().Before(t.expiry) {
		return t.token, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, nil)
	if err != nil {
		return "", err
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var grant struct {
		Token   string `json:"access_token"`
		Seconds int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&grant); err != nil {
		return "", err
	}
	t.token, t.expiry = grant.Token, time.Now().Add(time.Duration(grant.Seconds)*time.Second)
	return t.token, nil
}

// Clean: the lock covers the cached value only; the request runs without it and the result is stored under
// the lock again.
func (t *tokenCache) Refresh(ctx context.Context) error {
	t.mu.Lock()
	url := t.url
	t.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var grant struct {
		Token string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&grant); err != nil {
		return err
	}
	t.mu.Lock()
	t.token = grant.Token
	t.mu.Unlock()
	return nil
}
