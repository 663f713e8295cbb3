package kycd

import (
	"encoding/json"
	"testing"
)

// TestAddressPatchNull: a part given as null clears it (given, empty); a
// part not given stays nil, as the address process's rules read them.
func TestAddressPatchNull(t *testing.T) {
	var in AddressInput
	if err := json.Unmarshal([]byte(`{"address":{"line2":null,"city":"Lisboa"}}`), &in); err != nil {
		t.Fatal(err)
	}
	p := in.Address
	if p.Line2 == nil || *p.Line2 != "" {
		t.Errorf("line2 null: %v, want given and empty", p.Line2)
	}
	if p.City == nil || *p.City != "Lisboa" {
		t.Errorf("city: %v", p.City)
	}
	if p.Line1 != nil || p.Subdivision != nil || p.PostalCode != nil {
		t.Errorf("parts not given are set: %+v", p)
	}
	got := p.ApplyTo(Address{Country: "PT", City: "Porto", Line1: "Rua A", Line2: "2E"})
	if want := (Address{Country: "PT", City: "Lisboa", Line1: "Rua A"}); got != want {
		t.Errorf("applied: %+v, want %+v", got, want)
	}
	if err := json.Unmarshal([]byte(`{"address":{"city":5}}`), &in); err == nil {
		t.Error("a number as a city decoded")
	}
}

// TestPatchOf: a patch from an address sets its parts that are set.
func TestPatchOf(t *testing.T) {
	p := PatchOf(Address{Country: "PT", City: "Lisboa", PostalCode: "1000-001"})
	if p.City == nil || *p.City != "Lisboa" || p.PostalCode == nil || p.Line1 != nil || p.Line2 != nil || p.Subdivision != nil {
		t.Errorf("%+v", p)
	}
}

// TestFormAttempts: attempts are JSON Schema integers, 2.0 included; a
// fraction is refused.
func TestFormAttempts(t *testing.T) {
	var out FormOutput
	if err := json.Unmarshal([]byte(`{"result":"rejected","attempts":{"used":2.0,"maximum":3},"verifiedAt":"2026-01-01T00:00:00Z"}`), &out); err != nil {
		t.Fatal(err)
	}
	if out.Attempts == nil || *out.Attempts != (FormAttempts{Used: 2, Maximum: 3}) {
		t.Errorf("attempts: %+v", out.Attempts)
	}
	if err := json.Unmarshal([]byte(`{"attempts":{"used":1.5,"maximum":3}}`), &out); err == nil {
		t.Error("1.5 attempts decoded")
	}
}
