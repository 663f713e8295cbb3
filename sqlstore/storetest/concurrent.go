package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector"
	"github.com/kycd/kycd/mock"
)

// testConcurrentCreations: rows with a unique key created at the same time
// (PostgreSQL runs their transactions at once) follow the operation's
// contract, never a unique-key error: codes of one user and channel replace
// each other (every issue succeeds, one code remains, one audit entry
// each); a provider's first configurations replace each other; an
// ingestion of one source key, and a submission key, are created once and
// already_applied after.
func testConcurrentCreations(t *testing.T, f *Fixture, clock *mock.Clock) {
	ctx := context.Background()
	tn := newTenant(t, f)
	u := newUser(t, f, tn.ID, "race-"+uuid.NewString()[:8]+"@example.com")
	const n = 16
	at := func(fn func(i int) error) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = fn(i)
			}()
		}
		close(start)
		wg.Wait()
		return errs
	}
	count := func(query string, args ...any) int {
		t.Helper()
		var c int
		must(t, f.SQL.QueryRowContext(ctx, f.DB.Rebind(query), args...).Scan(&c))
		return c
	}

	// Sign codes (the levels surface) and verification codes (Core).
	for _, issue := range []struct {
		channel string
		fn      func(vc *kycd.VerificationCode) error
	}{
		{kycd.SignChannel("sms", uuid.NewString()), func(vc *kycd.VerificationCode) error {
			return f.DB.IssueSignCode(ctx, vc, kycd.SignCodeIssued(vc, kycd.SendCodeArgs{TenantID: tn.ID, CodeID: vc.ID}))
		}},
		{kycd.ChannelEmail, func(vc *kycd.VerificationCode) error {
			return f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Code: vc, Action: "kyc.test.code"})
		}},
	} {
		ids := make([]string, n)
		errs := at(func(i int) error {
			vc := &kycd.VerificationCode{ID: uuid.NewString(), TenantID: tn.ID, UserID: u.ID, Channel: issue.channel, Digest: "d",
				Code: "123456", Destination: "+351912345678", ExpiresAt: clock.Now().Add(10 * time.Minute)}
			ids[i] = vc.ID
			return issue.fn(vc)
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("%s: issue %d: %v", issue.channel, i, err)
			}
		}
		got, err := f.DB.FindVerificationCode(ctx, tn.ID, u.ID, issue.channel)
		must(t, err)
		found := false
		for _, id := range ids {
			found = found || id == got.ID
		}
		if !found || got.UsedAt != nil || got.Attempts != 0 {
			t.Errorf("%s: the code kept is %+v, not one issued", issue.channel, got)
		}
		if c := count(`SELECT count(*) FROM verification_codes WHERE user_id = ? AND channel = ?`, u.ID, issue.channel); c != 1 {
			t.Errorf("%s: %d codes kept", issue.channel, c)
		}
	}
	if c := count(`SELECT count(*) FROM audit_pending WHERE tenant_id = ? AND action IN ('kyc.sign-code.issued', 'kyc.test.code')`, tn.ID); c != 2*n {
		t.Errorf("%d audit entries of codes issued, want %d", c, 2*n)
	}

	// A provider's first configuration.
	errs := at(func(i int) error {
		cfg := &kycd.ConnectorConfig{TenantID: tn.ID, Provider: kycd.ProviderVeriff, BaseURL: "https://veriff.example",
			Integrations: []kycd.VeriffIntegration{{Name: "main", APIKey: "key", SharedSecretKey: "Qzsecretshared", Processes: []string{"identity"}}}}
		return f.DB.SaveConnectorConfig(ctx, cfg, kycd.ConnectorConfigSaved(cfg))
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("configuration %d: %v", i, err)
		}
	}
	if c := count(`SELECT count(*) FROM connector_configs WHERE tenant_id = ?`, tn.ID); c != 1 {
		t.Errorf("%d configurations", c)
	}

	// Ingestions of one source key, and submissions of one key.
	key := "backfill/" + uuid.NewString()
	once := func(errs []error, what string) {
		t.Helper()
		created := 0
		for _, err := range errs {
			if err == nil {
				created++
			} else if kycd.ErrorCode(err) != kycd.EAlreadyApplied {
				t.Errorf("%s: %v", what, err)
			}
		}
		if created != 1 {
			t.Errorf("%s: created %d times", what, created)
		}
	}
	once(at(func(i int) error {
		in := &kycd.Ingestion{TenantID: tn.ID, UserID: u.ID, Provider: kycd.ProviderSumsub, SourceKey: key,
			Processes: []string{"identity"}, Parameters: map[string]any{"applicantId": "a"}}
		return f.DB.CreateIngestion(ctx, in, connector.IngestionCreated(in, kycd.IngestArgs{TenantID: tn.ID}))
	}), "ingestion by source key")
	once(at(func(i int) error {
		return f.DB.SaveProcesses(ctx, &kycd.ProcessChange{TenantID: tn.ID, UserID: u.ID, Key: key, Action: "kyc.test.submission"})
	}), "submission")
}
