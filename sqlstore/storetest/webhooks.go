package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
)

// testWebhooks: endpoints round-trip with their secrets sealed; dispatching
// makes one delivery (and job) per subscribed, enabled endpoint of the
// event's tenant and gives events increasing feed positions; attempts and
// an endpoint's disabling are recorded.
func testWebhooks(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	a, b := newTenant(t, f), newTenant(t, f)
	u := newUser(t, f, a.ID, "hooks-a@example.com")
	// Events written before this test were dispatched by earlier ones or
	// are dispatched now, out of the way.
	for {
		n, err := f.DB.DispatchEvents(ctx, 1000)
		must(t, err)
		if n == 0 {
			break
		}
	}
	sub := &kycd.WebhookEndpoint{TenantID: a.ID, URL: "https://a.example/hook", EventTypes: []string{"core.kyc."}, Enabled: true,
		Secrets: []kycd.WebhookSecret{{Secret: "whsec_Qzsecret"}}}
	must(t, f.DB.CreateWebhookEndpoint(ctx, sub))
	off := &kycd.WebhookEndpoint{TenantID: a.ID, URL: "https://a.example/off", EventTypes: []string{"core.kyc."}, Enabled: false,
		Secrets: []kycd.WebhookSecret{{Secret: "whsec_x"}}}
	must(t, f.DB.CreateWebhookEndpoint(ctx, off))
	other := &kycd.WebhookEndpoint{TenantID: b.ID, URL: "https://b.example/hook", EventTypes: []string{"core."}, Enabled: true,
		Secrets: []kycd.WebhookSecret{{Secret: "whsec_y"}}}
	must(t, f.DB.CreateWebhookEndpoint(ctx, other))
	got, err := f.DB.FindWebhookEndpoint(ctx, a.ID, sub.ID)
	must(t, err)
	if got.URL != sub.URL || len(got.Secrets) != 1 || got.Secrets[0].Secret != "whsec_Qzsecret" || !got.Enabled {
		t.Fatalf("round trip: %+v", got)
	}
	if _, err := f.DB.FindWebhookEndpoint(ctx, b.ID, sub.ID); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Errorf("another tenant: %v", err)
	}
	var sealed []byte
	must(t, f.DB.WritePool().QueryRowContext(ctx, rebindFor(f, `SELECT secrets FROM webhook_endpoints WHERE id = ?`), sub.ID).Scan(&sealed))
	if bytes.Contains(sealed, []byte("Qzsecret")) {
		t.Error("a signing secret stored in the clear")
	}

	// Two events of tenant A (one subscribed), one of B.
	for _, ev := range []*kycd.Event{
		{TenantID: a.ID, Type: "core.kyc.email.status-changed", EntityType: "user", EntityID: u.ID, Data: map[string]any{"status": "ok"}},
		{TenantID: a.ID, Type: "core.user.deleted", EntityType: "user", EntityID: u.ID},
		{TenantID: b.ID, Type: "core.user.created", EntityType: "user", EntityID: "x"},
	} {
		must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: ev.TenantID, UserID: u.ID, Events: []*kycd.Event{ev}, Action: "test.event"}))
	}
	n, err := f.DB.DispatchEvents(ctx, 100)
	must(t, err)
	if n != 3 {
		t.Fatalf("dispatched %d events", n)
	}
	if c := count(t, f, `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = ?`, sub.ID); c != 1 {
		t.Errorf("%d deliveries to the subscribed endpoint", c)
	}
	if c := count(t, f, `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = ?`, off.ID); c != 0 {
		t.Errorf("%d deliveries to a disabled endpoint", c)
	}
	if c := count(t, f, `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = ?`, other.ID); c != 1 {
		t.Errorf("%d deliveries to tenant B", c)
	}
	if n, _ := f.DB.DispatchEvents(ctx, 100); n != 0 {
		t.Errorf("dispatched %d events twice", n)
	}
	events, seqs, err := f.DB.FindEvents(ctx, a.ID, 0, 100)
	must(t, err)
	if len(events) < 2 || events[len(events)-2].Type != "core.kyc.email.status-changed" || events[len(events)-1].Type != "core.user.deleted" ||
		seqs[len(seqs)-1] <= seqs[len(seqs)-2] {
		t.Fatalf("feed: %d events", len(events))
	}
	if later, _, _ := f.DB.FindEvents(ctx, a.ID, seqs[len(seqs)-2], 100); len(later) != 1 || later[0].Type != "core.user.deleted" {
		t.Errorf("feed after a cursor: %d", len(later))
	}
	for _, ev := range events {
		if ev.TenantID != a.ID || ev.EntityID == "x" {
			t.Errorf("tenant A's feed holds %s", ev.Type)
		}
	}

	// An attempt, and the endpoint disabled by it.
	var id string
	must(t, f.DB.WritePool().QueryRowContext(ctx, rebindFor(f, `SELECT id FROM webhook_deliveries WHERE endpoint_id = ?`), sub.ID).Scan(&id))
	d, ev, err := f.DB.FindDelivery(ctx, a.ID, id)
	must(t, err)
	if ev.Type != "core.kyc.email.status-changed" || ev.Data["status"] != "ok" || d.Status != kycd.DeliveryPending {
		t.Fatalf("delivery: %+v %+v", d, ev)
	}
	d.Status, d.Attempts, d.LastStatus = kycd.DeliveryFailed, 1, 410
	got.Enabled, got.DisabledReason = false, "gone"
	must(t, f.DB.RecordAttempt(ctx, d, got))
	if e, _ := f.DB.FindWebhookEndpoint(ctx, a.ID, sub.ID); e.Enabled || e.DisabledReason != "gone" {
		t.Errorf("endpoint after 410: %+v", e)
	}
	if d2, _, _ := f.DB.FindDelivery(ctx, a.ID, id); d2.Status != kycd.DeliveryFailed || d2.LastStatus != 410 {
		t.Errorf("delivery after 410: %+v", d2)
	}
	must(t, f.DB.DeleteWebhookEndpoint(ctx, a.ID, sub.ID))
	if err := f.DB.DeleteWebhookEndpoint(ctx, a.ID, sub.ID); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Errorf("delete twice: %v", err)
	}
}

// testEventRetention: pruning removes dispatched events older than the
// cut-off with their deliveries, batch by batch; it keeps recent events,
// undispatched ones and events still owed to an existing endpoint, but not
// those owed only to a deleted endpoint.
func testEventRetention(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	a := newTenant(t, f)
	u := newUser(t, f, a.ID, "retention@example.com")
	dispatchAll := func() {
		for {
			n, err := f.DB.DispatchEvents(ctx, 1000)
			must(t, err)
			if n == 0 {
				return
			}
		}
	}
	dispatchAll()
	endpoint := func(types ...string) *kycd.WebhookEndpoint {
		e := &kycd.WebhookEndpoint{TenantID: a.ID, URL: "https://a.example/" + types[0], EventTypes: types, Enabled: true,
			Secrets: []kycd.WebhookSecret{{Secret: "whsec_r"}}}
		must(t, f.DB.CreateWebhookEndpoint(ctx, e))
		return e
	}
	done, owed, gone := endpoint("core.user."), endpoint("core.kyc."), endpoint("core.file.")
	emit := func(typ string) *kycd.Event {
		ev := &kycd.Event{TenantID: a.ID, Type: typ, EntityType: "user", EntityID: u.ID}
		must(t, f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: a.ID, UserID: u.ID, Events: []*kycd.Event{ev}, Action: "test.event"}))
		return ev
	}
	settle := func(ev *kycd.Event, e *kycd.WebhookEndpoint, status string) {
		var id string
		must(t, f.DB.WritePool().QueryRowContext(ctx, rebindFor(f, `SELECT id FROM webhook_deliveries WHERE event_id = ? AND endpoint_id = ?`), ev.ID, e.ID).Scan(&id))
		d, _, err := f.DB.FindDelivery(ctx, a.ID, id)
		must(t, err)
		d.Status, d.Attempts, d.LastStatus = status, 1, 200
		must(t, f.DB.RecordAttempt(ctx, d, nil))
	}
	delivered, pending, orphaned, extra := emit("core.user.created"), emit("core.kyc.email.status-changed"), emit("core.file.uploaded"), emit("core.user.updated")
	dispatchAll()
	settle(delivered, done, kycd.DeliverySucceeded)
	settle(extra, done, kycd.DeliveryFailed)
	must(t, f.DB.DeleteWebhookEndpoint(ctx, a.ID, gone.ID))
	old := clock.Now()
	clock.Advance(2 * time.Hour)
	recent := emit("core.user.updated")
	dispatchAll()
	settle(recent, done, kycd.DeliverySucceeded)
	// An old event not dispatched yet (written at the old time).
	now := clock.Now()
	clock.Set(old)
	undispatched := emit("core.user.updated")
	clock.Set(now)

	cutoff := clock.Now().Add(-time.Hour)
	// One at a time: the limit holds.
	if n, err := f.DB.PruneEvents(ctx, cutoff, 1); err != nil || n != 1 {
		t.Fatalf("prune with limit 1: %d %v", n, err)
	}
	for {
		n, err := f.DB.PruneEvents(ctx, cutoff, 2)
		must(t, err)
		if n == 0 {
			break
		}
	}
	kept := func(ev *kycd.Event) bool {
		return count(t, f, `SELECT count(*) FROM outbox_events WHERE id = ?`, ev.ID) == 1
	}
	for _, ev := range []*kycd.Event{delivered, extra, orphaned} {
		if kept(ev) {
			t.Errorf("%s: kept past its retention", ev.Type)
		}
		if c := count(t, f, `SELECT count(*) FROM webhook_deliveries WHERE event_id = ?`, ev.ID); c != 0 {
			t.Errorf("%s: %d deliveries kept", ev.Type, c)
		}
	}
	if !kept(pending) || !kept(recent) {
		t.Error("a pending or a recent event was removed")
	}
	if c := count(t, f, `SELECT count(*) FROM webhook_deliveries WHERE event_id = ?`, pending.ID); c != 1 {
		t.Errorf("the pending delivery: %d", c)
	}
	if !kept(undispatched) {
		t.Error("an event was removed before it was dispatched")
	}
	// Once given up on, the owed event goes too.
	settle(pending, owed, kycd.DeliveryFailed)
	if _, err := f.DB.PruneEvents(ctx, cutoff, 100); err != nil {
		t.Fatal(err)
	}
	if kept(pending) {
		t.Error("a failed delivery's event was kept")
	}
}
