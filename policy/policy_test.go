package policy

import (
	"testing"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/geo"
)

func load(t *testing.T) *Policy {
	t.Helper()
	p, err := Load(geo.New().Codes())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEveryCountryHasOneGeneralTerms: each known country, unless restricted,
// has exactly one general terms of service.
func TestEveryCountryHasOneGeneralTerms(t *testing.T) {
	p := load(t)
	for _, c := range geo.New().Countries() {
		n := 0
		for _, tos := range p.Terms() {
			if tos.Type == TypeGeneral && tos.AppliesTo(c.Code, "individual") {
				n++
			}
		}
		want := 1
		if p.Restricted(c.Code) {
			want = 0
		}
		if n != want {
			t.Errorf("%s has %d general terms, want %d", c.Code, n, want)
		}
	}
	for country, code := range map[string]string{"GB": "general-gb-fca", "US": "general-us-hq", "PT": "general-pt-bop", "LT": "general-lt-fcs", "BR": "general-bs-scb"} {
		if got, ok := p.GeneralTermsFor(country); !ok || got.Code != code {
			t.Errorf("%s: %s, want %s", country, got.Code, code)
		}
	}
	if _, ok := p.GeneralTermsFor("KP"); ok || !p.Restricted("KP") {
		t.Error("KP is not restricted")
	}
	viban, _ := p.FindTerms("unique-account-number-viban")
	if !viban.AppliesTo("PT", "individual") || viban.AppliesTo("US", "individual") || viban.AppliesTo("GB", "business") {
		t.Errorf("viban applicability: %+v", viban)
	}
}

func TestUserRules(t *testing.T) {
	p := load(t)
	u := &kycd.User{Type: kycd.UserIndividual, Address: kycd.Address{Country: "PT"}, TermsOfService: "general-pt-bop"}
	if err := p.CheckNewUser(u); err != nil {
		t.Fatalf("PT resident with PT terms: %v", err)
	}
	u.TermsOfService = "general-gb-fca"
	if e, ok := kycd.AsError(p.CheckNewUser(u)); !ok || e.Code != kycd.ETermsOfServiceMismatch || e.Details["expected"] != "general-pt-bop" {
		t.Fatalf("PT resident with GB terms: %v", e)
	}
	if err := p.CheckNewUser(&kycd.User{Address: kycd.Address{Country: "KP"}, TermsOfService: "general-bs-scb"}); kycd.ErrorCode(err) != kycd.ECountryNotSupported {
		t.Fatalf("restricted country: %v", err)
	}
	viban, _ := p.FindTerms("unique-account-number-viban")
	if err := p.CheckAcceptance(viban, u); err != nil {
		t.Fatalf("PT individual accepting vIBAN terms: %v", err)
	}
	for _, who := range []*kycd.User{
		{Type: kycd.UserBusiness, Address: kycd.Address{Country: "PT"}},
		{Type: kycd.UserIndividual, Address: kycd.Address{Country: "US"}},
	} {
		e, ok := kycd.AsError(p.CheckAcceptance(viban, who))
		if !ok || e.Code != kycd.EOperationNotAllowed || e.Details["reasons"].([]string)[0] != "terms-of-service-not-applicable" {
			t.Errorf("%s in %s: %v", who.Type, who.Address.Country, e)
		}
	}
	if !viban.AppliesTo("", "") || !viban.AppliesTo("PT", "") || viban.AppliesTo("", "business") {
		t.Error("an empty country or user type must mean any")
	}
}

// TestCheckEmail: throwaway mail services (and their subdomains) are
// email_incorrect_or_disallowed; other domains, including ones that only
// end like one, are not.
func TestCheckEmail(t *testing.T) {
	p := load(t)
	for email, refused := range map[string]bool{
		"someone@mailinator.com":    true,
		"Someone@YOPMAIL.com":       true,
		"a@inbox.guerrillamail.com": true,
		"a@maildrop.cc.":            true,
		"john.doe@uphold.com":       false,
		"a@notmailinator.com":       false,
		"a@mailinator.com.example":  false,
		"user@conformance.example":  false,
	} {
		err := p.CheckEmail(email)
		if refused != (kycd.ErrorCode(err) == kycd.EEmailIncorrectOrDisallowed) || !refused && err != nil {
			t.Errorf("%s: %v", email, err)
		}
	}
}

// TestSubdivisionFixed: a US resident's declared state is never editable,
// even with a partner-verified proof of address (SubdivisionLocked false);
// elsewhere that proof unlocks it, and an undeclared state may be given.
func TestSubdivisionFixed(t *testing.T) {
	p, g := load(t), geo.New()
	editable := func(country string, f ProfileFacts) bool {
		return p.ProfileRules(country, f, g)["address"].Rules["subdivision"].Editable
	}
	if !p.SubdivisionFixed("US") || p.SubdivisionFixed("GB") {
		t.Fatalf("SubdivisionFixed: US %v, GB %v", p.SubdivisionFixed("US"), p.SubdivisionFixed("GB"))
	}
	if editable("US", ProfileFacts{SubdivisionDeclared: true}) {
		t.Error("a declared US state is editable")
	}
	if !editable("US", ProfileFacts{}) {
		t.Error("an undeclared US state cannot be given")
	}
	if !editable("GB", ProfileFacts{SubdivisionDeclared: true}) {
		t.Error("a GB subdivision with a partner-verified proof of address is not editable")
	}
	if editable("GB", ProfileFacts{SubdivisionDeclared: true, SubdivisionLocked: true}) {
		t.Error("a locked GB subdivision is editable")
	}
}
