package checks

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/geo"
)

var world = geo.New()

func berlin() *kycd.ConfirmedAddress {
	return &kycd.ConfirmedAddress{AddressLine1: "Rosenweg 221", AddressLine2: "apt. 33", Postcode: "45678", City: "Berlin", State: "BE", Country: "DE"}
}

func rules(vs []kycd.Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Property+":"+v.Rule)
	}
	return out
}

func TestAddressViolations(t *testing.T) {
	if vs := AddressViolations(berlin(), "a", world); len(vs) != 0 {
		t.Fatalf("seed address: %v", rules(vs))
	}
	for _, c := range []struct {
		set  func(a *kycd.ConfirmedAddress)
		want string
	}{
		{func(a *kycd.ConfirmedAddress) { a.AddressLine1 = "Postfach 1234" }, "a.address_line1:po_box"},
		{func(a *kycd.ConfirmedAddress) { a.AddressLine1 = "P.O. Box 5" }, "a.address_line1:po_box"},
		{func(a *kycd.ConfirmedAddress) { a.AddressLine2 = "Packstation 12" }, "a.address_line2:po_box"},
		{func(a *kycd.ConfirmedAddress) { a.AddressLine2 = "c/o Schmidt" }, "a.address_line2:care_of"},
		{func(a *kycd.ConfirmedAddress) { a.AddressLine2 = "zu Händen Herrn Weber" }, "a.address_line2:care_of"},
		{func(a *kycd.ConfirmedAddress) { a.City = "" }, "a.city:required"},
		{func(a *kycd.ConfirmedAddress) { a.AddressLine1 = "  " }, "a.address_line1:required"},
		{func(a *kycd.ConfirmedAddress) { a.Postcode = "" }, "a.postcode:required"},
		{func(a *kycd.ConfirmedAddress) { a.Postcode = "4567" }, "a.postcode:postcode_format"},
		{func(a *kycd.ConfirmedAddress) { a.State = "ZZ" }, "a.state:subdivision_code"},
		{func(a *kycd.ConfirmedAddress) { a.State = "DE-BY" }, ""},
		{func(a *kycd.ConfirmedAddress) { a.Country = "XX" }, "a.country:country_code"},
		{func(a *kycd.ConfirmedAddress) { a.City = "Ber\x00lin" }, "a.city:invalid_characters"},
	} {
		a := berlin()
		c.set(a)
		got := strings.Join(rules(AddressViolations(a, "a", world)), ",")
		if got != c.want {
			t.Errorf("%+v: %q, want %q", a, got, c.want)
		}
	}
}

func TestViolations(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	kyc := func() *Request {
		return &Request{Type: kycd.CheckKYC, ConfirmedAt: now.Add(-time.Hour), Data: kycd.CheckData{DocumentType: "ID_CARD",
			DocumentExpirationDate: "2030-01-01", Nationality: "DE", Provider: "KYC provider", Method: "VIDEO_ID", ConfirmedAddress: berlin()}}
	}
	if vs := Violations(kyc(), now, "DE", world); len(vs) != 0 {
		t.Fatalf("seed check: %v", rules(vs))
	}
	for _, c := range []struct {
		set       func(r *Request)
		residence string
		want      string
	}{
		{func(r *Request) { r.ConfirmedAt = now.Add(time.Hour) }, "DE", "check_confirmed_at:date_not_in_future"},
		{func(r *Request) { r.ConfirmedAt = now.Add(2 * time.Minute) }, "DE", ""}, // clock skew
		{func(r *Request) { r.ConfirmedAt = now.AddDate(0, -24, -1) }, "DE", "check_confirmed_at:date_max_age"},
		{func(r *Request) { r.ConfirmedAt = now.AddDate(0, -24, 1) }, "DE", ""},
		{func(r *Request) { r.Data.DocumentExpirationDate = "2026-11-30" }, "DE", "document_expiration_date:date_not_past"},
		{func(r *Request) { r.Data.DocumentExpirationDate = "2026-12-01" }, "DE", ""}, // valid through today
		{func(r *Request) { r.Data.DocumentExpirationDate = "2030-13-01" }, "DE", "document_expiration_date:format"},
		{func(r *Request) { r.Data.Nationality = "XX" }, "DE", "nationality:country_code"},
		{func(r *Request) { r.Data.Method = MethodPhotoLiveness }, "DE", "method:method_not_allowed_for_residence"},
		{func(r *Request) { r.Data.Method = MethodPhotoLiveness }, "AT", ""},
		{func(r *Request) { r.Data.Method = "SELFIE" }, "DE", "method:enum"},
		{func(r *Request) { r.Data.DocumentType = "LIBRARY_CARD" }, "DE", "document_type:enum"},
	} {
		r := kyc()
		c.set(r)
		if got := strings.Join(rules(Violations(r, now, c.residence, world)), ","); got != c.want {
			t.Errorf("%+v: %q, want %q", r, got, c.want)
		}
	}
	por := func(issued string) *Request {
		return &Request{Type: kycd.CheckPOR, ConfirmedAt: now.Add(-time.Hour), Data: kycd.CheckData{DocumentType: "UTILITY_BILL",
			IssuanceDate: issued, ConfirmedAddress: berlin()}}
	}
	for issued, want := range map[string]string{
		"2026-11-01": "", "2026-06-01": "", "2026-05-31": "issuance_date:date_max_age", "2026-12-02": "issuance_date:date_not_after_confirmation",
	} {
		if got := strings.Join(rules(Violations(por(issued), now, "DE", world)), ","); got != want {
			t.Errorf("issued %s: %q, want %q", issued, got, want)
		}
	}
}

// FuzzAddressViolations: the address rules never panic, always name
// properties of the address, refuse any line carrying a P.O. box or c/o
// marker, and judge the same address the same way.
func FuzzAddressViolations(f *testing.F) {
	f.Add("Rosenweg 221", "apt. 33", "45678", "Berlin", "BE", "DE")
	f.Add("Postfach 12", "", "10117", "Berlin", "DE-BE", "DE")
	f.Add("1 High Street", "c/o Mary", "M4 1AA", "Manchester", "MAN", "GB")
	f.Add("", "", "", "", "", "")
	f.Add("\x00", "P.O. Box", "\xff", "z. Hd.", "-", "de")
	f.Fuzz(func(t *testing.T, line1, line2, postcode, city, state, country string) {
		a := &kycd.ConfirmedAddress{AddressLine1: line1, AddressLine2: line2, Postcode: postcode, City: city, State: state, Country: country}
		vs := AddressViolations(a, "confirmed_address", world)
		for _, v := range vs {
			if !strings.HasPrefix(v.Property, "confirmed_address.") || v.Rule == "" {
				t.Fatalf("violation %+v", v)
			}
		}
		if again := AddressViolations(a, "confirmed_address", world); len(again) != len(vs) {
			t.Fatalf("not deterministic: %v / %v", rules(vs), rules(again))
		}
		if !utf8.ValidString(line1) || strings.TrimSpace(line1) == "" {
			return
		}
		for _, marker := range []string{"PO Box 1", "c/o X"} {
			b := *a
			b.AddressLine1 = line1 + " " + marker
			if strings.ContainsFunc(b.AddressLine1, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
				continue
			}
			found := false
			for _, v := range AddressViolations(&b, "confirmed_address", world) {
				if v.Property == "confirmed_address.address_line1" && (v.Rule == "po_box" || v.Rule == "care_of") {
					found = true
				}
			}
			if !found {
				t.Fatalf("%q is not refused", b.AddressLine1)
			}
		}
	})
}
