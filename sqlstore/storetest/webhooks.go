package storetest

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/sqlstore"
)

// dispatchAll dispatches every event written so far, the suite's earlier
// ones included.
func dispatchAll(t *testing.T, f *Fixture) {
	t.Helper()
	for {
		n, err := f.DB.DispatchEvents(context.Background(), 1000)
		must(t, err)
		if n == 0 {
			return
		}
	}
}

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
	dispatchAll(t, f)
	sub := &kycd.WebhookEndpoint{TenantID: a.ID, URL: "https://a.example/hook", EventTypes: []string{"core.kyc."}, Enabled: true,
		Secrets: []kycd.WebhookSecret{{Secret: "whsec_Qzsecret"}}}
	must(t, f.DB.CreateWebhookEndpoint(ctx, sub, kycd.EndpointCreated(sub)))
	off := &kycd.WebhookEndpoint{TenantID: a.ID, URL: "https://a.example/off", EventTypes: []string{"core.kyc."}, Enabled: false,
		Secrets: []kycd.WebhookSecret{{Secret: "whsec_x"}}}
	must(t, f.DB.CreateWebhookEndpoint(ctx, off, kycd.EndpointCreated(off)))
	other := &kycd.WebhookEndpoint{TenantID: b.ID, URL: "https://b.example/hook", EventTypes: []string{"core."}, Enabled: true,
		Secrets: []kycd.WebhookSecret{{Secret: "whsec_y"}}}
	must(t, f.DB.CreateWebhookEndpoint(ctx, other, kycd.EndpointCreated(other)))
	got, err := f.DB.FindWebhookEndpoint(ctx, a.ID, sub.ID)
	must(t, err)
	if got.URL != sub.URL || len(got.Secrets) != 1 || got.Secrets[0].Secret != "whsec_Qzsecret" || !got.Enabled {
		t.Fatalf("round trip: %+v", got)
	}
	if _, err := f.DB.FindWebhookEndpoint(ctx, b.ID, sub.ID); kycd.ErrorCode(err) != kycd.ENotFound {
		t.Errorf("another tenant: %v", err)
	}
	var sealed []byte
	must(t, f.SQL.QueryRowContext(ctx, f.DB.Rebind(`SELECT secrets FROM webhook_endpoints WHERE id = ?`), sub.ID).Scan(&sealed))
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
	must(t, f.SQL.QueryRowContext(ctx, f.DB.Rebind(`SELECT id FROM webhook_deliveries WHERE endpoint_id = ?`), sub.ID).Scan(&id))
	d, ev, err := f.DB.FindDelivery(ctx, a.ID, id)
	must(t, err)
	if ev.Type != "core.kyc.email.status-changed" || ev.Data["status"] != "ok" || d.Status != kycd.DeliveryPending {
		t.Fatalf("delivery: %+v %+v", d, ev)
	}
	d.Status, d.Attempts, d.LastStatus = kycd.DeliveryFailed, 1, 410
	got.Enabled, got.DisabledReason = false, "gone"
	must(t, f.DB.RecordAttempt(ctx, d, got, kycd.EndpointStateChanged(got, d.ID)))
	if e, _ := f.DB.FindWebhookEndpoint(ctx, a.ID, sub.ID); e.Enabled || e.DisabledReason != "gone" {
		t.Errorf("endpoint after 410: %+v", e)
	}
	if d2, _, _ := f.DB.FindDelivery(ctx, a.ID, id); d2.Status != kycd.DeliveryFailed || d2.LastStatus != 410 {
		t.Errorf("delivery after 410: %+v", d2)
	}
	must(t, f.DB.DeleteWebhookEndpoint(ctx, a.ID, sub.ID, kycd.EndpointDeleted(sub.ID)))
	if err := f.DB.DeleteWebhookEndpoint(ctx, a.ID, sub.ID, kycd.EndpointDeleted(sub.ID)); kycd.ErrorCode(err) != kycd.ENotFound {
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
	dispatchAll(t, f)
	endpoint := func(types ...string) *kycd.WebhookEndpoint {
		e := &kycd.WebhookEndpoint{TenantID: a.ID, URL: "https://a.example/" + types[0], EventTypes: types, Enabled: true,
			Secrets: []kycd.WebhookSecret{{Secret: "whsec_r"}}}
		must(t, f.DB.CreateWebhookEndpoint(ctx, e, kycd.EndpointCreated(e)))
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
		must(t, f.SQL.QueryRowContext(ctx, f.DB.Rebind(`SELECT id FROM webhook_deliveries WHERE event_id = ? AND endpoint_id = ?`), ev.ID, e.ID).Scan(&id))
		d, _, err := f.DB.FindDelivery(ctx, a.ID, id)
		must(t, err)
		d.Status, d.Attempts, d.LastStatus = status, 1, 200
		must(t, f.DB.RecordAttempt(ctx, d, nil, kycd.Change{}))
	}
	delivered, pending, orphaned, extra := emit("core.user.created"), emit("core.kyc.email.status-changed"), emit("core.file.uploaded"), emit("core.user.updated")
	dispatchAll(t, f)
	settle(delivered, done, kycd.DeliverySucceeded)
	settle(extra, done, kycd.DeliveryFailed)
	must(t, f.DB.DeleteWebhookEndpoint(ctx, a.ID, gone.ID, kycd.EndpointDeleted(gone.ID)))
	old := clock.Now()
	clock.Advance(2 * time.Hour)
	recent := emit("core.user.updated")
	dispatchAll(t, f)
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

// emit writes one event of a tenant about an entity, audited as a change.
func emit(t *testing.T, f *Fixture, tenantID, typ, entityID string) *kycd.Event {
	t.Helper()
	ev := &kycd.Event{TenantID: tenantID, Type: typ, EntityType: "user", EntityID: entityID, Data: map[string]any{"id": entityID}}
	must(t, f.DB.Update(context.Background(), func(tx *sqlstore.Tx) error {
		if err := tx.Emit(ev); err != nil {
			return err
		}
		return tx.Audit(tenantID, "test.event", "user", entityID, nil)
	}))
	return ev
}

// deliveryOf reads the delivery of an event to an endpoint.
func deliveryOf(t *testing.T, f *Fixture, ev *kycd.Event, e *kycd.WebhookEndpoint) *kycd.WebhookDelivery {
	t.Helper()
	var id string
	must(t, f.SQL.QueryRowContext(context.Background(), f.DB.Rebind(`SELECT id FROM webhook_deliveries WHERE event_id = ? AND endpoint_id = ?`),
		ev.ID, e.ID).Scan(&id))
	d, _, err := f.DB.FindDelivery(context.Background(), e.TenantID, id)
	must(t, err)
	return d
}

// newEndpoint creates an enabled endpoint of a tenant.
func newEndpoint(t *testing.T, f *Fixture, tenantID string, bundle bool, types ...string) *kycd.WebhookEndpoint {
	t.Helper()
	e := &kycd.WebhookEndpoint{TenantID: tenantID, URL: "https://hooks.example/" + uuid.NewString(), EventTypes: types, Enabled: true, Bundle: bundle,
		Secrets: []kycd.WebhookSecret{{Secret: "whsec_" + uuid.NewString()}}}
	must(t, f.DB.CreateWebhookEndpoint(context.Background(), e, kycd.EndpointCreated(e)))
	return e
}

// testWebhookEndpoints: a tenant's endpoints are listed apart from
// another's; an update replaces every field (secrets sealed again) with its
// audit entry, and dispatching follows it; another tenant's or an unknown
// endpoint is ENotFound and changes nothing.
func testWebhookEndpoints(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	if list, err := f.DB.FindWebhookEndpoints(ctx, tn.ID); err != nil || len(list) != 0 {
		t.Fatalf("a new tenant's endpoints: %d %v", len(list), err)
	}
	e1, e2 := newEndpoint(t, f, tn.ID, false, "core.kyc."), newEndpoint(t, f, tn.ID, false, "core.user.")
	theirs := newEndpoint(t, f, other.ID, false, "core.")
	list, err := f.DB.FindWebhookEndpoints(ctx, tn.ID)
	must(t, err)
	if !hasIDs(list, func(e *kycd.WebhookEndpoint) string { return e.ID }, e1.ID, e2.ID) {
		t.Errorf("tenant's endpoints: %d", len(list))
	}
	for _, e := range list {
		if e.ID == e1.ID && (e.URL != e1.URL || len(e.Secrets) != 1 || e.Secrets[0].Secret != e1.Secrets[0].Secret) {
			t.Errorf("listed endpoint: %+v", e)
		}
	}
	if list, err := f.DB.FindWebhookEndpoints(ctx, other.ID); err != nil || !hasIDs(list, func(e *kycd.WebhookEndpoint) string { return e.ID }, theirs.ID) {
		t.Errorf("another tenant's endpoints: %d %v", len(list), err)
	}

	// An update of every field.
	clock.Advance(time.Minute)
	expired, failing := clock.Now().Add(time.Hour).UTC(), clock.Now().Add(-time.Minute).UTC()
	up := *e1
	up.URL, up.Description, up.EventTypes = "https://hooks.example/moved", "moved", []string{"core.user.", "core.file."}
	up.Enabled, up.DisabledReason, up.Bundle, up.FailingSince = false, "paused", true, &failing
	up.Secrets = []kycd.WebhookSecret{{Secret: "whsec_Qznewsecret"}, {Secret: e1.Secrets[0].Secret, ExpiresAt: &expired}}
	auditBefore := auditCount(t, f, tn.ID)
	must(t, f.DB.UpdateWebhookEndpoint(ctx, &up, kycd.EndpointUpdated(&up)))
	got, err := f.DB.FindWebhookEndpoint(ctx, tn.ID, e1.ID)
	must(t, err)
	if got.URL != up.URL || got.Description != "moved" || !slices.Equal(got.EventTypes, up.EventTypes) || got.Enabled || got.DisabledReason != "paused" ||
		!got.Bundle || got.FailingSince == nil || !got.FailingSince.Equal(failing) || len(got.Secrets) != 2 || got.Secrets[0].Secret != "whsec_Qznewsecret" ||
		got.Secrets[1].ExpiresAt == nil || !got.Secrets[1].ExpiresAt.Equal(expired) || !got.CreatedAt.Equal(e1.CreatedAt) || !got.UpdatedAt.After(e1.UpdatedAt) {
		t.Errorf("after the update: %+v", got)
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore+1 {
		t.Errorf("audit entries: %d, want %d", n, auditBefore+1)
	}
	var sealed []byte
	must(t, f.SQL.QueryRowContext(ctx, f.DB.Rebind(`SELECT secrets FROM webhook_endpoints WHERE id = ?`), e1.ID).Scan(&sealed))
	if bytes.Contains(sealed, []byte("Qznewsecret")) {
		t.Error("an updated secret stored in the clear")
	}
	// Refused: another tenant's copy, an unknown endpoint.
	auditBefore = auditCount(t, f, tn.ID)
	foreign := *got
	foreign.TenantID, foreign.URL = other.ID, "https://hooks.example/hijacked"
	wantCode(t, f.DB.UpdateWebhookEndpoint(ctx, &foreign, kycd.EndpointUpdated(&foreign)), kycd.ENotFound)
	unknown := *got
	unknown.ID = uuid.NewString()
	wantCode(t, f.DB.UpdateWebhookEndpoint(ctx, &unknown, kycd.EndpointUpdated(&unknown)), kycd.ENotFound)
	if e, _ := f.DB.FindWebhookEndpoint(ctx, tn.ID, e1.ID); e.URL != up.URL {
		t.Errorf("another tenant's update changed the endpoint: %s", e.URL)
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore {
		t.Errorf("refused updates recorded audit entries: %d, want %d", n, auditBefore)
	}

	// Dispatching follows the update: disabled, nothing; enabled again
	// with the new types, the new types' events.
	dispatchAll(t, f)
	u := uuid.NewString()
	emit(t, f, tn.ID, "core.user.updated", u)
	dispatchAll(t, f)
	if n := count(t, f, `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = ?`, e1.ID); n != 0 {
		t.Errorf("a disabled endpoint got %d deliveries", n)
	}
	got.Enabled, got.DisabledReason = true, ""
	must(t, f.DB.UpdateWebhookEndpoint(ctx, got, kycd.EndpointUpdated(got)))
	emit(t, f, tn.ID, "core.kyc.email.status-changed", u) // no longer subscribed
	file := emit(t, f, tn.ID, "core.file.uploaded", u)
	dispatchAll(t, f)
	if n := count(t, f, `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = ?`, e1.ID); n != 1 {
		t.Errorf("the re-enabled endpoint got %d deliveries, want 1", n)
	}
	if d := deliveryOf(t, f, file, e1); d.EventType != "core.file.uploaded" {
		t.Errorf("delivery: %+v", d)
	}
}

// testDeliveries: an endpoint's deliveries page newest first; dispatched
// events have increasing feed positions (ENotFound for one not in the
// feed or another tenant's); a redelivery is a new pending delivery with
// its job; a test event goes to its one endpoint and stays out of the feed.
func testDeliveries(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	e := newEndpoint(t, f, tn.ID, false, "core.")
	newEndpoint(t, f, tn.ID, false, "*") // the test event must not reach it
	dispatchAll(t, f)
	u := uuid.NewString()
	// Three events dispatched a second apart (a delivery is as old as its
	// dispatch), and one not yet.
	var evs []*kycd.Event
	for range 3 {
		evs = append(evs, emit(t, f, tn.ID, "core.user.updated", u))
		clock.Advance(time.Second)
		dispatchAll(t, f)
	}
	undispatched := emit(t, f, tn.ID, "core.user.updated", u)
	var last int64
	for i, ev := range evs {
		pos, err := f.DB.EventPosition(ctx, tn.ID, ev.ID)
		must(t, err)
		if pos <= last {
			t.Errorf("event %d at %d, after %d", i, pos, last)
		}
		last = pos
	}
	_, err := f.DB.EventPosition(ctx, tn.ID, undispatched.ID)
	wantCode(t, err, kycd.ENotFound)
	_, err = f.DB.EventPosition(ctx, other.ID, evs[0].ID)
	wantCode(t, err, kycd.ENotFound)
	_, err = f.DB.EventPosition(ctx, tn.ID, uuid.NewString())
	wantCode(t, err, kycd.ENotFound)
	clock.Advance(time.Second)
	dispatchAll(t, f)

	ids := func(list []*kycd.WebhookDelivery) []string {
		out := make([]string, len(list))
		for i, d := range list {
			out[i] = d.ID
		}
		return out
	}
	d0, d1, d2 := deliveryOf(t, f, evs[0], e), deliveryOf(t, f, evs[1], e), deliveryOf(t, f, evs[2], e)
	d3 := deliveryOf(t, f, undispatched, e)
	page, err := f.DB.FindDeliveries(ctx, tn.ID, e.ID, "", 2)
	must(t, err)
	if got := ids(page); !slices.Equal(got, []string{d3.ID, d2.ID}) {
		t.Errorf("first page: %v, want %v", got, []string{d3.ID, d2.ID})
	}
	page, err = f.DB.FindDeliveries(ctx, tn.ID, e.ID, d2.ID, 10)
	must(t, err)
	if got := ids(page); !slices.Equal(got, []string{d1.ID, d0.ID}) {
		t.Errorf("second page: %v, want %v", got, []string{d1.ID, d0.ID})
	}
	if len(page) == 0 {
		t.FailNow()
	}
	if page[0].EventID != evs[1].ID || page[0].EventType != "core.user.updated" || page[0].Status != kycd.DeliveryPending {
		t.Errorf("listed delivery: %+v", page[0])
	}
	if page, err := f.DB.FindDeliveries(ctx, other.ID, e.ID, "", 10); err != nil || len(page) != 0 {
		t.Errorf("another tenant's read: %d %v", len(page), err)
	}

	// Redelivery.
	jobs := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, kycd.DeliverArgs{}.Kind())
	auditBefore := auditCount(t, f, tn.ID)
	clock.Advance(time.Second)
	again, err := f.DB.Redeliver(ctx, tn.ID, e.ID, []string{evs[0].ID, evs[2].ID}, kycd.EventsRedelivered(e.ID, len([]string{evs[0].ID, evs[2].ID})))
	must(t, err)
	if len(again) != 2 || slices.Contains(again, d0.ID) || again[0] == again[1] {
		t.Fatalf("redelivered: %v", again)
	}
	for i, id := range again {
		d, ev, err := f.DB.FindDelivery(ctx, tn.ID, id)
		must(t, err)
		if want := []*kycd.Event{evs[0], evs[2]}[i]; d.EventID != want.ID || ev.ID != want.ID || d.EndpointID != e.ID || d.Status != kycd.DeliveryPending || d.Attempts != 0 {
			t.Errorf("redelivery %d: %+v", i, d)
		}
	}
	if n := count(t, f, `SELECT count(*) FROM river_job WHERE kind = ?`, kycd.DeliverArgs{}.Kind()); n != jobs+2 {
		t.Errorf("delivery jobs: %d, want %d", n, jobs+2)
	}
	if n := auditCount(t, f, tn.ID); n != auditBefore+1 {
		t.Errorf("audit entries: %d, want %d", n, auditBefore+1)
	}
	if page, _ := f.DB.FindDeliveries(ctx, tn.ID, e.ID, "", 10); len(page) != 6 || !slices.Contains(ids(page[:2]), again[0]) || !slices.Contains(ids(page[:2]), again[1]) {
		t.Errorf("after the redelivery: %v", ids(page))
	}

	// A test event: one delivery, to its endpoint only, not in the feed.
	_, seqs, err := f.DB.FindEvents(ctx, tn.ID, 0, 1000)
	must(t, err)
	feed := len(seqs)
	testID, err := f.DB.SendTestEvent(ctx, tn.ID, e.ID, kycd.WebhookTestSent(tn.ID, e.ID))
	must(t, err)
	d, ev, err := f.DB.FindDelivery(ctx, tn.ID, testID)
	must(t, err)
	if ev.Type != kycd.EventWebhookTest || d.EndpointID != e.ID || d.Status != kycd.DeliveryPending || ev.Data["endpointId"] != e.ID {
		t.Errorf("test delivery: %+v %+v", d, ev)
	}
	dispatchAll(t, f)
	if n := count(t, f, `SELECT count(*) FROM webhook_deliveries WHERE event_id = ?`, ev.ID); n != 1 {
		t.Errorf("the test event has %d deliveries, want 1 (the endpoint subscribed to everything took it too)", n)
	}
	if _, seqs, _ := f.DB.FindEvents(ctx, tn.ID, 0, 1000); len(seqs) != feed {
		t.Errorf("the test event entered the feed: %d events, were %d", len(seqs), feed)
	}
	_, err = f.DB.EventPosition(ctx, tn.ID, ev.ID)
	wantCode(t, err, kycd.ENotFound)
}

// testEarlierPending: a delivery waits while an earlier event about the
// same entity waits for its first attempt to the same endpoint; not for
// another entity's, another endpoint's, or one attempted already.
func testEarlierPending(t *testing.T, f *Fixture, _ *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	e, e2 := newEndpoint(t, f, tn.ID, false, "core."), newEndpoint(t, f, tn.ID, false, "core.")
	dispatchAll(t, f)
	u, u2 := uuid.NewString(), uuid.NewString()
	first, second, another := emit(t, f, tn.ID, "core.user.created", u), emit(t, f, tn.ID, "core.user.updated", u), emit(t, f, tn.ID, "core.user.created", u2)
	dispatchAll(t, f)
	earlier := func(ev *kycd.Event, e *kycd.WebhookEndpoint) bool {
		t.Helper()
		ok, err := f.DB.EarlierPending(ctx, deliveryOf(t, f, ev, e), ev)
		must(t, err)
		return ok
	}
	if !earlier(second, e) || !earlier(second, e2) {
		t.Error("the second event does not wait for the first")
	}
	if earlier(first, e) || earlier(another, e) {
		t.Error("the first event, or another entity's, waits")
	}
	// The first is attempted for e (and fails): the second no longer waits
	// there, while e2's first delivery still holds e2's second.
	d := deliveryOf(t, f, first, e)
	d.Attempts, d.LastStatus = 1, 500
	must(t, f.DB.RecordAttempt(ctx, d, nil, kycd.Change{}))
	if earlier(second, e) {
		t.Error("an attempted delivery holds the next one back")
	}
	if !earlier(second, e2) {
		t.Error("another endpoint's attempt released this endpoint's delivery")
	}
}

// testBundles: a bundle delivery's first attempt claims up to max-1 other
// deliveries of its endpoint waiting for their first attempt, of its type
// family, and returns their events ordered by creation; a claimed delivery
// carries nothing itself; a retry carries the same bundle; an attempt of
// the bundle is each delivery's; a settled delivery claims nothing.
func testBundles(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn, other := newTenant(t, f), newTenant(t, f)
	e := newEndpoint(t, f, tn.ID, true, "USER_CHECK.", "core.user.")
	dispatchAll(t, f)
	// A delivery attempted on its own already (before the endpoint took
	// bundles) is no bundle's to claim.
	early := emit(t, f, tn.ID, kycd.EventCheckCreated, uuid.NewString())
	dispatchAll(t, f)
	tried := deliveryOf(t, f, early, e)
	tried.Attempts, tried.LastStatus = 1, 500
	must(t, f.DB.RecordAttempt(ctx, tried, nil, kycd.Change{}))
	var evs []*kycd.Event
	for _, typ := range []string{kycd.EventCheckCreated, kycd.EventCheckPassed, "core.user.updated", kycd.EventCheckCreated, kycd.EventCheckFailed} {
		clock.Advance(time.Second)
		evs = append(evs, emit(t, f, tn.ID, typ, uuid.NewString()))
	}
	dispatchAll(t, f)
	typesOf := func(list []*kycd.Event) []string {
		out := make([]string, len(list))
		for i, ev := range list {
			out[i] = ev.ID
		}
		return out
	}
	claim := func(d *kycd.WebhookDelivery) []string {
		t.Helper()
		got, err := f.DB.ClaimBundle(ctx, d, "USER_CHECK.", 3)
		must(t, err)
		return typesOf(got)
	}
	lead := deliveryOf(t, f, evs[1], e)
	if got, want := claim(lead), []string{evs[0].ID, evs[1].ID, evs[3].ID}; !slices.Equal(got, want) {
		t.Errorf("bundle: %v, want %v", got, want)
	}
	if got := claim(deliveryOf(t, f, evs[0], e)); len(got) != 0 {
		t.Errorf("a claimed delivery carries %v", got)
	}
	foreign := *deliveryOf(t, f, evs[4], e)
	foreign.TenantID = other.ID
	if got := claim(&foreign); len(got) != 0 {
		t.Errorf("another tenant's claim: %v", got)
	}
	// A failed attempt is every bundled delivery's; the retry resends the
	// same bundle and claims no more.
	lead.Attempts, lead.LastStatus = 1, 503
	must(t, f.DB.RecordAttempt(ctx, lead, nil, kycd.Change{}))
	for _, i := range []int{0, 3} {
		if d := deliveryOf(t, f, evs[i], e); d.Attempts != 1 || d.LastStatus != 503 {
			t.Errorf("bundled delivery %d after the attempt: %+v", i, d)
		}
	}
	if got, want := claim(lead), []string{evs[0].ID, evs[1].ID, evs[3].ID}; !slices.Equal(got, want) {
		t.Errorf("retry: %v, want %v", got, want)
	}
	// The rest: the other family stays out.
	if got := claim(deliveryOf(t, f, evs[4], e)); !slices.Equal(got, []string{evs[4].ID}) {
		t.Errorf("second bundle: %v, want %v", got, []string{evs[4].ID})
	}
	// Settled, the bundle claims nothing.
	lead.Status, lead.Attempts, lead.LastStatus = kycd.DeliverySucceeded, 2, 200
	must(t, f.DB.RecordAttempt(ctx, lead, nil, kycd.Change{}))
	if d := deliveryOf(t, f, evs[3], e); d.Status != kycd.DeliverySucceeded {
		t.Errorf("a bundled delivery after the bundle succeeded: %+v", d)
	}
	if got := claim(lead); len(got) != 0 {
		t.Errorf("a settled delivery carries %v", got)
	}
	if d := deliveryOf(t, f, evs[2], e); d.Status != kycd.DeliveryPending || d.Attempts != 0 {
		t.Errorf("the other family's delivery: %+v", d)
	}
	if d := deliveryOf(t, f, early, e); d.Status != kycd.DeliveryPending || d.Attempts != 1 {
		t.Errorf("the delivery attempted on its own: %+v", d)
	}
}
