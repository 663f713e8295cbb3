package kyc_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/forms"
	"github.com/kycd/kycd/geo"
	"github.com/kycd/kycd/kyc"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/policy"
	"github.com/kycd/kycd/sqlstore"
	"github.com/kycd/kycd/sqlstore/storetest"
)

type bundle struct {
	svc    *kyc.Service
	f      *storetest.Fixture
	tenant *kycd.Tenant
	clock  *mock.Clock
	cfg    kyc.Config
}

// setup opens a store on d and a service over it, with a fake clock and
// the given notifier (nil for none), and creates a tenant.
func setup(t *testing.T, d storetest.Database, notifier ...kyc.Notifier) *bundle {
	t.Helper()
	return setupWith(t, d, nil, notifier...)
}

// setupWith is setup with the service's process store wrapped by wrap (nil:
// the store itself).
func setupWith(t *testing.T, d storetest.Database, wrap func(*sqlstore.DB) kycd.ProcessStore, notifier ...kyc.Notifier) *bundle {
	t.Helper()
	clock := mock.NewClock(time.Now())
	f := storetest.Open(t, d, clock)
	g := geo.New()
	pol, err := policy.Load(g.Codes())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := forms.Load("")
	if err != nil {
		t.Fatal(err)
	}
	var store kycd.ProcessStore = f.DB
	if wrap != nil {
		store = wrap(f.DB)
	}
	cfg := kyc.Config{Store: store, Files: f.DB, Forms: reg, Policy: pol, Geo: g, Vault: f.Vault, Clock: clock}
	if len(notifier) > 0 {
		cfg.Notifier = notifier[0]
	}
	svc, err := kyc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tn := &kycd.Tenant{Name: "kyc-" + d.Name}
	if err := f.DB.CreateTenant(context.Background(), tn, kycd.TenantCreated(tn)); err != nil {
		t.Fatal(err)
	}
	return &bundle{svc: svc, f: f, tenant: tn, clock: clock, cfg: cfg}
}

func (b *bundle) user(t *testing.T, email string) *kycd.User {
	t.Helper()
	u := &kycd.User{TenantID: b.tenant.ID, Type: kycd.UserIndividual, Email: email, FullName: "John Doe", Birthdate: "1987-01-01",
		PrimaryCitizenship: "GB", TermsOfService: "general-gb-fca",
		Address: kycd.Address{Country: "GB", Subdivision: "GB-MAN", City: "Manchester", Line1: "1 High Street", PostalCode: "M4 1AA"}}
	if err := b.f.DB.CreateUser(context.Background(), u, kycd.UserCreated(u)); err != nil {
		t.Fatal(err)
	}
	return u
}

// onEachDB runs test on each database, in parallel, with a service set up
// on it.
func onEachDB(t *testing.T, test func(t *testing.T, b *bundle)) {
	for _, d := range storetest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			test(t, setup(t, d))
		})
	}
}

// verifiedCDD is a partner-verified customer due diligence result, verified
// and expiring at the times given.
func verifiedCDD(verifiedAt, expiresAt time.Time) *kycd.ProcessUpdate {
	return &kycd.ProcessUpdate{Input: &kycd.FormInput{Answers: map[string]any{"x": map[string]any{}}},
		Output: &kycd.FormOutput{Score: "low", VerifiedAt: verifiedAt.Format(time.RFC3339), ExpiresAt: expiresAt.Format(time.RFC3339)}}
}

// cddEvents counts the user's customer due diligence status events whose
// payload is LIKE payload.
func (b *bundle) cddEvents(t *testing.T, userID, payload string) int {
	t.Helper()
	n := 0
	q := b.f.DB.Rebind(`SELECT count(*) FROM outbox_events WHERE entity_id = ? AND type = ? AND payload LIKE ?`)
	if err := b.f.SQL.QueryRowContext(context.Background(), q, userID, kycd.EventProcessStatusChanged(kycd.ProcessCDD), payload).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestConcurrentAnswers: answers to different questions of one step sent
// at the same time all survive (no lost update), on both databases.
func TestConcurrentAnswers(t *testing.T) {
	onEachDB(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		u := b.user(t, "race@example.com")
		const formID = "ae80271a-a3f0-453b-8dc6-36b777817217" // the form's published id
		first := &kycd.ProcessUpdate{Input: &kycd.FormInput{FormID: formID, Answers: map[string]any{"intent": map[string]any{"expected-activities": []any{"cryptocurrency_investing"}}}}}
		if _, _, err := b.svc.UpdateProcess(ctx, u, kycd.ProcessCDD, first); err != nil {
			t.Fatal(err)
		}
		answers := []map[string]any{
			{"source-of-funds": "salary"},
			{"annual-income-range": "40000-60000"},
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(answers)*4)
		for round := 0; round < 4; round++ {
			for _, a := range answers {
				wg.Add(1)
				go func(a map[string]any) {
					defer wg.Done()
					mine := *u
					_, _, err := b.svc.UpdateProcess(ctx, &mine, kycd.ProcessCDD, &kycd.ProcessUpdate{
						Input: &kycd.FormInput{FormID: formID, Answers: map[string]any{"financial-information": a}}})
					errs <- err
				}(a)
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent answer: %v", err)
			}
		}
		o, err := b.svc.Overview(ctx, u, []string{"customerDueDiligence"}, "")
		if err != nil {
			t.Fatal(err)
		}
		fin, _ := o.Processes["customerDueDiligence"].Input["answers"].(map[string]any)["financial-information"].(map[string]any)
		if fin["source-of-funds"] != "salary" || fin["annual-income-range"] != "40000-60000" {
			t.Fatalf("lost an answer: %v", fin)
		}
	})
}

// TestConcurrentDuplicateDocument: two users submitting the same document
// at once: one identity is ok, the other fails as a duplicate.
func TestConcurrentDuplicateDocument(t *testing.T) {
	onEachDB(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		users := []*kycd.User{b.user(t, "a@example.com"), b.user(t, "b@example.com")}
		var files []string
		for _, u := range users {
			files = append(files, b.uploadedFile(t, u))
		}
		statuses := make([]string, len(users))
		var wg sync.WaitGroup
		for i, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, _, err := b.svc.UpdateProcess(ctx, u, kycd.ProcessIdentity, kycd.DocumentSubmission(
					[]kycd.MediaItem{{Context: "photo-document-front", FileID: files[i]}},
					kycd.VerificationOutput{Provider: "veriff", VerifiedAt: "2020-01-01T00:00:00Z",
						Document: &kycd.VerifiedDocument{Type: "passport", Number: "X123", Country: "GB"},
						Person:   &kycd.VerifiedPerson{GivenName: "John", FamilyName: "Doe", Birthdate: "1987-01-01"}}))
				if err != nil {
					t.Error(err)
					return
				}
				statuses[i] = v.Status + ":" + reasonOf(v)
			}()
		}
		wg.Wait()
		if !(statuses[0] == "ok:" && statuses[1] == "failed:duplicate" || statuses[1] == "ok:" && statuses[0] == "failed:duplicate") {
			t.Fatalf("statuses: %v", statuses)
		}
	})
}

func (b *bundle) uploadedFile(t *testing.T, u *kycd.User) string {
	t.Helper()
	ctx := context.Background()
	f := &kycd.File{TenantID: u.TenantID, UserID: u.ID, Category: "image", ContentType: "image/png", Status: kycd.FilePending,
		UploadExpiresAt: time.Now().Add(time.Hour)}
	if err := b.f.DB.CreateFile(ctx, f, kycd.FileCreated(f)); err != nil {
		t.Fatal(err)
	}
	if err := b.f.DB.MarkFileUploaded(ctx, u.TenantID, f.ID, 10, "00", "blob/"+f.ID, kycd.FileUploadedChange(f, 10, "00")); err != nil {
		t.Fatal(err)
	}
	return f.ID
}

func reasonOf(v *kyc.ProcessView) string {
	r, _ := v.Output["reason"].(string)
	return r
}

// failingNotifier fails the way mail servers do: quoting the recipient.
type failingNotifier struct{}

func (failingNotifier) Supports(string) bool { return true }
func (failingNotifier) Send(_ context.Context, m kyc.Message) error {
	return errors.New("550 5.1.1 <" + m.To + ">: mailbox unavailable")
}

// TestSendCodeErrorsNameNobody: a failed send's error (logged, and kept with
// the job) does not name the recipient.
func TestSendCodeErrorsNameNobody(t *testing.T) {
	b := setup(t, storetest.Databases(t)[0], failingNotifier{})
	svc := b.svc
	ctx := context.Background()
	u := b.user(t, "private.person@example.com")
	if _, _, err := svc.UpdateProcess(ctx, u, kycd.ProcessEmail, &kycd.ProcessUpdate{Input: &kycd.EmailInput{Email: "private.person@example.com"}}); err != nil {
		t.Fatal(err)
	}
	vc, err := b.f.DB.FindVerificationCode(ctx, u.TenantID, u.ID, kycd.ChannelEmail)
	if err != nil {
		t.Fatal(err)
	}
	err = svc.SendCode(ctx, kycd.SendCodeArgs{TenantID: u.TenantID, CodeID: vc.ID})
	if err == nil || strings.Contains(err.Error(), "private.person") || !strings.Contains(err.Error(), "[recipient]") {
		t.Fatalf("send error: %v", err)
	}
}

// TestExpiry: a verified result that expires is recorded pending by the
// sweep and announced once, on both databases.
func TestExpiry(t *testing.T) {
	onEachDB(t, func(t *testing.T, b *bundle) {
		svc, clock := b.svc, b.clock
		ctx := context.Background()
		u := b.user(t, "expiry@example.com")
		if _, _, err := svc.UpdateProcess(ctx, u, kycd.ProcessCDD, verifiedCDD(clock.Now().Add(-time.Hour), clock.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.ExpireProcesses(ctx); err != nil || n != 0 {
			t.Fatalf("before expiry: %d %v", n, err)
		}
		clock.Advance(2 * time.Hour)
		if n, err := svc.ExpireProcesses(ctx); err != nil || n != 1 {
			t.Fatalf("after expiry: %d %v", n, err)
		}
		if n, err := svc.ExpireProcesses(ctx); err != nil || n != 0 {
			t.Fatalf("a second sweep: %d %v", n, err)
		}
		if events := b.cddEvents(t, u.ID, "%pending%"); events != 1 {
			t.Errorf("%d expiry events, want 1", events)
		}
		o, _ := svc.Overview(ctx, u, nil, "")
		if o.Processes["customerDueDiligence"].Status != kycd.StatusPending {
			t.Errorf("after expiry: %s", o.Processes["customerDueDiligence"].Status)
		}
	})
}

// TestRecordedStateAfterExpiry: events announce changes of the recorded
// state. A result that expired but was not yet swept counts as pending for
// the change, yet what was recorded was ok: renewing it announces nothing,
// and the sweep has nothing left to announce afterwards.
func TestRecordedStateAfterExpiry(t *testing.T) {
	onEachDB(t, func(t *testing.T, b *bundle) {
		svc, clock := b.svc, b.clock
		ctx := context.Background()
		u := b.user(t, "renewal@example.com")
		verified := func() *kycd.ProcessUpdate { return verifiedCDD(clock.Now(), clock.Now().Add(time.Hour)) }
		events := func() int { return b.cddEvents(t, u.ID, "%") }
		if _, _, err := svc.UpdateProcess(ctx, u, kycd.ProcessCDD, verified()); err != nil {
			t.Fatal(err)
		}
		if n := events(); n != 1 {
			t.Fatalf("%d events after the first result, want 1 (ok)", n)
		}
		clock.Advance(2 * time.Hour) // expired, not swept
		if o, _ := svc.Overview(ctx, u, nil, ""); o.Processes["customerDueDiligence"].Status != kycd.StatusPending {
			t.Fatalf("expired result: %s", o.Processes["customerDueDiligence"].Status)
		}
		v, _, err := svc.UpdateProcess(ctx, u, kycd.ProcessCDD, verified())
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != kycd.StatusOK {
			t.Fatalf("renewed: %s", v.Status)
		}
		if n := events(); n != 1 {
			t.Errorf("%d events after the renewal, want still 1: the recorded status stayed ok", n)
		}
		if n, err := svc.ExpireProcesses(ctx); err != nil || n != 0 {
			t.Errorf("sweep after the renewal: %d %v", n, err)
		}
	})
}

// TestFormInputTypes: a form process's formId must be a string and its
// answers an object, whoever calls the service: JSON of other types does
// not decode into its input type, and another process's input type is
// request_invalid. A null formId starts a form.
func TestFormInputTypes(t *testing.T) {
	d := storetest.Databases(t)[0]
	b := setup(t, d)
	u := b.user(t, "types@example.com")
	for _, in := range []string{
		`{"formId": 5.0, "answers": {"intent": {}}}`,
		`{"answers": "intent"}`,
		`{"answers": [{}]}`,
	} {
		if err := json.Unmarshal([]byte(in), kycd.NewProcessInput(kycd.ProcessCDD)); err == nil {
			t.Errorf("%s decoded as a form's input", in)
		}
	}
	_, _, err := b.svc.UpdateProcess(context.Background(), u, kycd.ProcessCDD, &kycd.ProcessUpdate{Input: &kycd.EmailInput{Email: "types@example.com"}})
	if e, ok := kycd.AsError(err); !ok || e.Code != kycd.ERequestInvalid {
		t.Errorf("an email's input to a form: %v, want a request_invalid error", err)
	}
	in := kycd.NewProcessInput(kycd.ProcessCDD)
	if err := json.Unmarshal([]byte(`{"formId": null, "answers": {"intent": {"expected-activities": ["cryptocurrency_investing"]}}}`), in); err != nil {
		t.Fatal(err)
	}
	v, _, err := b.svc.UpdateProcess(context.Background(), u, kycd.ProcessCDD, &kycd.ProcessUpdate{Input: in})
	if err != nil || v.Input["formId"] == "" {
		t.Errorf("null formId starts a form: %v %v", v, err)
	}
}

// TestUpdateProcessFromDeclaredUser: an update built from the declared
// person sees the user as the update applies. Another node renames the
// user while this one builds an identity from the old name: the identity
// is built again from the new name and is ok, where one built from the
// name read before (as checks' deferred effects were) failed with
// data-mismatch.
func TestUpdateProcessFromDeclaredUser(t *testing.T) {
	onEachDB(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		other, err := kyc.New(b.cfg) // another node: no lock shared with b.svc
		if err != nil {
			t.Fatal(err)
		}
		u := b.user(t, "renamed@example.com")
		var seen []string
		view, _, err := b.svc.UpdateProcessFrom(ctx, &kycd.User{ID: u.ID, TenantID: u.TenantID}, kycd.ProcessIdentity, func(d *kycd.User) (*kycd.ProcessUpdate, error) {
			seen = append(seen, d.FullName)
			if len(seen) == 1 {
				if _, _, err := other.UpdateProcess(ctx, &kycd.User{ID: u.ID, TenantID: u.TenantID}, kycd.ProcessProfile,
					kycd.ProfileUpdate(kycd.ProfileInput{FullName: kycd.Given("Jane Roe")})); err != nil {
					t.Fatal(err)
				}
			}
			given, family, _ := strings.Cut(d.FullName, " ")
			return kycd.ElectronicVerification(kycd.VerifiedPerson{GivenName: given, FamilyName: family, Birthdate: d.Birthdate, CitizenshipCountry: "GB"},
				kycd.VerificationOutput{Provider: "KYC provider", VerifiedAt: b.clock.Now().UTC().Format(time.RFC3339)}), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 2 || seen[1] != "Jane Roe" || view.Status != kycd.StatusOK {
			t.Fatalf("built from %q; identity %s %s", seen, view.Status, reasonOf(view))
		}
		// Nothing to submit: no view, no error, nothing changed.
		view, _, err = b.svc.UpdateProcessFrom(ctx, &kycd.User{ID: u.ID, TenantID: u.TenantID}, kycd.ProcessAddress,
			func(*kycd.User) (*kycd.ProcessUpdate, error) { return nil, nil })
		if err != nil || view != nil {
			t.Fatalf("nothing to submit: %v %v", view, err)
		}
	})
}
