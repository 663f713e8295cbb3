package veriff

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/connector"
)

// TestWebhookEvents: decision and event webhooks become events with the
// dedupe key Veriff advises; X-AUTH-CLIENT picks the integration whose
// secret must have signed the body.
func TestWebhookEvents(t *testing.T) {
	decision := []byte(`{"status":"success","verification":{"id":"12df6045-3846-3e45-946a-14fa6136d78b","code":9001,"status":"approved","vendorData":"user-1","decisionTime":"2019-11-06T07:18:36.916Z","person":{"firstName":"SARAH"}}}`)
	event := []byte(`{"id":"f04bdb47-d3be-4b28-b028-a652feb060b5","attemptId":"e30122d1","feature":"selfid","code":7002,"action":"submitted","vendorData":"QWE123"}`)
	w, err := ParseWebhook(decision)
	if err != nil {
		t.Fatal(err)
	}
	if ev := w.Event("main"); ev.Key != "12df6045-3846-3e45-946a-14fa6136d78b|approved|2019-11-06T07:18:36.916Z" || ev.Outcome != kycd.OutcomeApproved ||
		ev.ExternalUserID != "user-1" || ev.Integration != "main" {
		t.Errorf("decision: %+v", ev)
	}
	w, err = ParseWebhook(event)
	if err != nil {
		t.Fatal(err)
	}
	if ev := w.Event("main"); ev.Key != "f04bdb47-d3be-4b28-b028-a652feb060b5|submitted|e30122d1" || ev.Outcome != "" || ev.Type != "submitted" {
		t.Errorf("event: %+v", ev)
	}
	if _, err := ParseWebhook([]byte(`{"status":"success"}`)); !errors.Is(err, ErrDataInvalid) {
		t.Errorf("empty: %v", err)
	}
	cfg := &kycd.ConnectorConfig{Integrations: []kycd.VeriffIntegration{{Name: "main", APIKey: "key-1", SharedSecretKey: "secret-1"},
		{Name: "poa", APIKey: "key-2", SharedSecretKey: "secret-2"}}}
	h := http.Header{}
	h.Set(HeaderAuthClient, "key-2")
	h.Set(HeaderSignature, Sign("secret-2", decision))
	p := &Provider{}
	if ev, err := p.Webhook(cfg, h, decision); err != nil || ev.Integration != "poa" {
		t.Errorf("signed: %+v %v", ev, err)
	}
	h.Set(HeaderAuthClient, "key-1")
	if _, err := p.Webhook(cfg, h, decision); !errors.Is(err, connector.ErrBadSignature) {
		t.Errorf("another integration's secret: %v", err)
	}
}

// FuzzParseWebhook: any body either parses into an event or is
// ErrDataInvalid; nothing panics.
func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"status":"success","verification":{"id":"x","status":"approved"}}`))
	f.Add([]byte(`{"id":"x","action":"started"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := ParseWebhook(body)
		if err != nil {
			if !errors.Is(err, ErrDataInvalid) {
				t.Fatal(err)
			}
			return
		}
		if ev := w.Event("main"); ev.Ref == "" {
			t.Fatalf("event without a reference: %+v", ev)
		}
	})
}

// TestVerificationMapping: an approved decision becomes kycd's vocabulary:
// names as people write them, alpha-3 countries as alpha-2, Veriff's
// document type, and the final capture of each media context only.
func TestVerificationMapping(t *testing.T) {
	s := func(v string) *string { return &v }
	vr := &Verification{Status: "approved", DecisionTime: "2026-01-02T03:04:05.678Z",
		Person: &Person{FirstName: s("JEAN-LUC"), LastName: s("O'BRIEN"), DateOfBirth: s("1980-02-03"), Nationality: s("FRA"), Gender: s("M"),
			Addresses: []Address{{}}},
		Document: &Document{Type: s("DRIVERS_LICENSE"), Number: s("X1"), Country: s("FR"), ValidUntil: s("2031-01-01")}}
	vr.Person.Addresses[0].ParsedAddress.Street, vr.Person.Addresses[0].ParsedAddress.HouseNumber = s("Rue de Rivoli"), s("12")
	vr.Person.Addresses[0].ParsedAddress.Country, vr.Person.Addresses[0].ParsedAddress.City = s("FRA"), s("PARIS")
	media := &MediaList{Images: []Media{{ID: "1", Context: "document-front-pre"}, {ID: "2", Context: "document-front"}, {ID: "3", Context: "face-pre"},
		{ID: "4", Context: "address-front"}, {ID: "5", Context: "unknown"}}}
	v := verification(vr, media)
	if v.Profile.FullName != "Jean-Luc O'Brien" || v.Profile.PrimaryCitizenship != "FR" || v.Profile.Birthdate != "1980-02-03" {
		t.Errorf("profile: %+v", v.Profile)
	}
	if v.Identity.Document.Type != "driving-license" || v.Identity.Person.Gender != "male" || v.Identity.VerifiedAt != "2026-01-02T03:04:05.678Z" {
		t.Errorf("identity: %+v", v.Identity)
	}
	if v.Address.Line1 != "12 Rue de Rivoli" || v.Address.Country != "FR" || v.Address.City != "Paris" {
		t.Errorf("address: %+v", v.Address)
	}
	var got []string
	for _, m := range v.Media {
		got = append(got, m.ID+":"+m.Context+":"+m.Process)
	}
	if want := "2:photo-document-front:identity 3:photo-selfie:identity 4:address-proof:proof-of-address"; strings.Join(got, " ") != want {
		t.Errorf("media: %v", got)
	}
}
