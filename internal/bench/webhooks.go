package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/sqlstore"
	"github.com/kycd/kycd/webhook"
)

// benchWebhooks measures webhook delivery to a loopback receiver that
// answers at once: n queued events delivered by w workers, against n no-op
// River jobs worked by as many workers in the same run; then the time from
// the commit of an event to its receipt, for events written one at a time
// while the workers run.
func benchWebhooks(ctx context.Context, a *App, n, workers int) (map[string]any, error) {
	var (
		mu       sync.Mutex
		received = map[string]time.Time{}
		count    atomic.Int64
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("webhook-id")
		mu.Lock()
		received[id] = time.Now()
		mu.Unlock()
		count.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	ctx = a.Admin(ctx)
	t := &kycd.Tenant{Name: "bench-webhooks-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	if err := a.DB.CreateTenant(ctx, t, kycd.TenantCreated(t)); err != nil {
		return nil, err
	}
	url := recv.URL + "/hook"
	if _, _, err := a.Webhooks.CreateEndpoint(ctx, t.ID, webhook.EndpointRequest{URL: &url, EventTypes: []string{"bench."}}); err != nil {
		return nil, err
	}
	var objects atomic.Int64
	emit := func(k int) (map[string]time.Time, error) {
		ids := map[string]time.Time{}
		err := a.DB.Update(ctx, func(tx *sqlstore.Tx) error {
			for range k {
				// 1,000 objects, a few events each (their order is kept).
				ev := &kycd.Event{TenantID: t.ID, Type: "bench.event", EntityType: "object", EntityID: strconv.FormatInt(objects.Add(1)%1000, 10)}
				if err := tx.Emit(ev); err != nil {
					return err
				}
				ids[ev.ID] = time.Time{}
			}
			return tx.Audit(t.ID, "bench.events", "tenant", t.ID, map[string]any{"n": k})
		})
		now := time.Now()
		for id := range ids {
			ids[id] = now
		}
		return ids, err
	}
	// The no-op baseline.
	noopTime, err := benchNoop(ctx, a, n, workers)
	if err != nil {
		return nil, err
	}
	// Throughput: n events queued, then dispatched and delivered.
	for done := 0; done < n; done += 500 {
		if _, err := emit(min(500, n-done)); err != nil {
			return nil, err
		}
	}
	if err := a.DB.Vacuum(ctx); err != nil {
		return nil, err
	}
	dispatchCtx, stop := context.WithCancel(ctx)
	wait := a.StartDispatcher(dispatchCtx)
	defer func() { stop(); wait() }()
	deliverTime, err := workUntil(ctx, a, workers, nil, func() (bool, error) { return count.Load() >= int64(n), nil })
	if err != nil {
		return nil, err
	}
	// Latency: events one per transaction, 50 per second, while delivering.
	c, err := a.Workers(workers)
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	defer c.Stop(context.Background()) //nolint:errcheck // the benchmark ends
	committed := map[string]time.Time{}
	for range 300 {
		ids, err := emit(1)
		if err != nil {
			return nil, err
		}
		for id, at := range ids {
			committed[id] = at
		}
		time.Sleep(20 * time.Millisecond)
	}
	deadline := time.Now().Add(time.Minute)
	var lat []float64
	for {
		mu.Lock()
		lat = lat[:0]
		for id, at := range committed {
			if got, ok := received[id]; ok {
				lat = append(lat, float64(got.Sub(at).Microseconds())/1000)
			}
		}
		mu.Unlock()
		if len(lat) == len(committed) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(lat) < len(committed) {
		return nil, fmt.Errorf("bench: %d of %d latency events arrived", len(lat), len(committed))
	}
	slices.Sort(lat)
	rate, noopRate := float64(n)/deliverTime.Seconds(), float64(n)/noopTime.Seconds()
	return map[string]any{
		"webhooks_n": n, "webhooks_workers": workers,
		"webhooks_per_s": int(rate), "noop_jobs_per_s": int(noopRate),
		"webhooks_ratio_to_noop": float64(int(rate/noopRate*1000)) / 1000,
		"webhooks_p50_ms":        lat[len(lat)/2], "webhooks_p99_ms": lat[len(lat)*99/100],
		"webhooks_peak_rss_mib": peakRSSMiB(),
	}, nil
}
