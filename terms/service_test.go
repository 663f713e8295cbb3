package terms

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/geo"
	"github.com/kycd/kycd/policy"
)

// store is a kycd.TermsStore whose behaviour each test sets.
type store struct {
	AcceptTermsFunc          func(ctx context.Context, tenantID, userID, code string, evidence kycd.EndUserContext, c kycd.Change) (time.Time, error)
	FindTermsAcceptancesFunc func(ctx context.Context, u kycd.UserRef) (map[string]time.Time, error)
}

var _ kycd.TermsStore = (*store)(nil)

func (s *store) AcceptTerms(ctx context.Context, tenantID, userID, code string, evidence kycd.EndUserContext, c kycd.Change) (time.Time, error) {
	return s.AcceptTermsFunc(ctx, tenantID, userID, code, evidence, c)
}

func (s *store) FindTermsAcceptances(ctx context.Context, u kycd.UserRef) (map[string]time.Time, error) {
	return s.FindTermsAcceptancesFunc(ctx, u)
}

func newService(t *testing.T, st *store) *Service {
	t.Helper()
	pol, err := policy.Load(geo.New().Codes())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: st, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAccept: general terms are not accepted through the API, the end
// user's IP is the consent's evidence, the terms must apply to the user,
// and only then is the acceptance recorded.
func TestAccept(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var recorded []string
	s := newService(t, &store{AcceptTermsFunc: func(_ context.Context, tenantID, userID, code string, ev kycd.EndUserContext, c kycd.Change) (time.Time, error) {
		// The service builds what the acceptance records, the store writes it.
		if len(c.Events) != 1 || c.Events[0].Type != kycd.EventTermsAccepted || c.Events[0].Data["termsOfService"] != code || c.Audit.Action != "terms.accepted" {
			t.Errorf("change = %+v", c)
		}
		recorded = append(recorded, tenantID+"/"+userID+"/"+code+"/"+ev.IP)
		return at, nil
	}})
	gb := &kycd.User{ID: "u1", TenantID: "t1", Type: kycd.UserIndividual, Address: kycd.Address{Country: "GB"}}
	us := &kycd.User{ID: "u2", TenantID: "t1", Type: kycd.UserIndividual, Address: kycd.Address{Country: "US"}}
	ip := kycd.EndUserContext{IP: "203.0.113.7"}
	const viban = "unique-account-number-viban"
	for _, c := range []struct {
		name         string
		u            *kycd.User
		code         string
		ev           kycd.EndUserContext
		want, reason string
	}{
		{"general", gb, "general-gb-fca", ip, kycd.ERequestInvalid, ""},
		{"unknown", gb, "nope", ip, kycd.ERequestInvalid, ""},
		{"no ip", gb, viban, kycd.EndUserContext{}, kycd.EOperationNotAllowed, "missing-user-ip-header"},
		{"not applicable", us, viban, ip, kycd.EOperationNotAllowed, "terms-of-service-not-applicable"},
	} {
		_, err := s.Accept(context.Background(), c.u, c.code, c.ev)
		if kycd.ErrorCode(err) != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
		if c.reason != "" && !containsReason(err, c.reason) {
			t.Errorf("%s: %v, want reason %s", c.name, err, c.reason)
		}
	}
	if len(recorded) != 0 {
		t.Fatalf("refused acceptances were recorded: %v", recorded)
	}
	got, err := s.Accept(context.Background(), gb, viban, ip)
	if err != nil || got.Code != viban || got.AcceptedAt == nil || !got.AcceptedAt.Equal(at) {
		t.Fatalf("Accept = %+v, %v", got, err)
	}
	if len(recorded) != 1 || recorded[0] != "t1/u1/"+viban+"/203.0.113.7" {
		t.Errorf("recorded %v", recorded)
	}
}

func containsReason(err error, reason string) bool {
	e, ok := err.(*kycd.Error)
	if !ok {
		return false
	}
	reasons, _ := e.Details["reasons"].([]string)
	return slices.Contains(reasons, reason)
}

// TestList: the filter is validated, every violation at once, and the
// acceptances are read only for a call that acts for a user.
func TestList(t *testing.T) {
	reads := 0
	accepted := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	s := newService(t, &store{FindTermsAcceptancesFunc: func(context.Context, kycd.UserRef) (map[string]time.Time, error) {
		reads++
		return map[string]time.Time{"general-gb-fca": accepted}, nil
	}})
	err := Filter{Type: "x", Country: "gb", UserType: "robot"}.Validate()
	if e, ok := err.(*kycd.Error); !ok || e.Code != kycd.ERequestInvalid || len(e.Violations) != 3 {
		t.Fatalf("Validate = %#v", err)
	}
	if _, err := s.List(context.Background(), Filter{Country: "gb"}, nil); kycd.ErrorCode(err) != kycd.ERequestInvalid {
		t.Fatalf("List of an invalid filter: %v", err)
	}
	list, err := s.List(context.Background(), Filter{Type: policy.TypeGeneral, Country: "GB"}, nil)
	if err != nil || len(list) != 1 || list[0].Code != "general-gb-fca" || list[0].AcceptedAt != nil || reads != 0 {
		t.Fatalf("List for no user = %+v, %v (%d reads)", list, err, reads)
	}
	list, err = s.List(context.Background(), Filter{Type: policy.TypeGeneral, Country: "GB"}, &kycd.UserRef{TenantID: "t", UserID: "u"})
	if err != nil || len(list) != 1 || list[0].AcceptedAt == nil || !list[0].AcceptedAt.Equal(accepted) || reads != 1 {
		t.Fatalf("List for a user = %+v, %v (%d reads)", list, err, reads)
	}
}
