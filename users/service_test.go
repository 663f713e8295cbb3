package users

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/geo"
	"github.com/kycd/kycd/mock"
	"github.com/kycd/kycd/policy"
)

// store records the user it is asked to create, and nothing else.
type store struct {
	kycd.UserStore
	created *kycd.User
	jobs    []kycd.JobArgs
}

func (s *store) CreateUser(_ context.Context, u *kycd.User, c kycd.Change) error {
	s.created, s.jobs = u, c.Jobs
	return nil
}

func newService(t *testing.T, screeningOff bool) (*Service, *store) {
	t.Helper()
	g := geo.New()
	p, err := policy.Load(g.Codes())
	if err != nil {
		t.Fatal(err)
	}
	st := &store{}
	s, err := New(Config{Store: st, Policy: p, Geo: g, Clock: mock.NewClock(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)), ScreeningOff: screeningOff})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

func newUser() *kycd.User {
	return &kycd.User{TenantID: "t1", Type: kycd.UserIndividual, Email: "ada@example.com", TermsOfService: "general-gb-fca",
		FullName: "Ada Lovelace", Birthdate: "1990-12-10", PrimaryCitizenship: "GB", Address: kycd.Address{Country: "GB", Subdivision: "GB-MAN"}}
}

// TestCreateUser: the creation rules a handler used to apply, in the order
// Uphold reports them; a refused user reaches no store.
func TestCreateUser(t *testing.T) {
	future := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		change   func(u *kycd.User)
		wantCode string
		property string
	}{
		{"partner onboarded in the future", func(u *kycd.User) { u.PartnerOnboardedAt = &future }, kycd.EDateInvalid, "partnerOnboardedAt"},
		{"restricted citizenship", func(u *kycd.User) { u.PrimaryCitizenship = "KP" }, kycd.ECountryNotSupported, "primaryCitizenship"},
		{"restricted phone before the residence", func(u *kycd.User) {
			u.Phone = &kycd.Phone{Country: "IR", Number: "+989121234567"}
			u.Address.Country = "KP"
		}, kycd.ECountryNotSupported, "phone.country"},
		{"restricted residence", func(u *kycd.User) { u.Address = kycd.Address{Country: "KP"} }, kycd.ECountryNotSupported, "address.country"},
		{"other country's terms", func(u *kycd.User) { u.TermsOfService = "general-pt-bop" }, kycd.ETermsOfServiceMismatch, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, st := newService(t, false)
			u := newUser()
			tc.change(u)
			_, err := s.CreateUser(context.Background(), u)
			var e *kycd.Error
			if !errors.As(err, &e) || e.Code != tc.wantCode {
				t.Fatalf("err = %v, want %s", err, tc.wantCode)
			}
			if p, _ := e.Details["property"].(string); p != tc.property {
				t.Errorf("property %q, want %q", p, tc.property)
			}
			if st.created != nil {
				t.Error("a refused user reached the store")
			}
		})
	}
}

// TestCreateUserMetadata: metadata over the limit does not refuse the user;
// it is dropped, and the refusal says why. The user's screening starts with
// it unless the operator turned screening off.
func TestCreateUserMetadata(t *testing.T) {
	s, st := newService(t, false)
	u := newUser()
	u.Metadata = map[string]any{"note": strings.Repeat("é", kycd.MetadataLimit)}
	refused, err := s.CreateUser(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if refused == nil || refused.Code != kycd.EContentTooLarge {
		t.Fatalf("refusal %v, want %s", refused, kycd.EContentTooLarge)
	}
	if st.created != u || u.Metadata != nil || u.ID == "" {
		t.Fatalf("stored %+v: want the user, without metadata, with an id", st.created)
	}
	if len(st.jobs) != 1 || st.jobs[0] != (kycd.ScreenUserArgs{TenantID: "t1", UserID: u.ID}) {
		t.Errorf("jobs %v, want the user's screening", st.jobs)
	}

	fits := newUser()
	fits.Metadata = map[string]any{"note": strings.Repeat("a", kycd.MetadataLimit-20)}
	if refused, err := s.CreateUser(context.Background(), fits); err != nil || refused != nil || fits.Metadata == nil {
		t.Fatalf("metadata that fits: refusal %v, err %v, kept %v", refused, err, fits.Metadata != nil)
	}

	off, st := newService(t, true)
	if _, err := off.CreateUser(context.Background(), newUser()); err != nil || len(st.jobs) != 0 {
		t.Fatalf("screening off: err %v, jobs %v", err, st.jobs)
	}
}
