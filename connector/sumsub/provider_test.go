package sumsub

import (
	"encoding/json"
	"testing"
)

// TestVerificationMapping: an approved applicant (as Sumsub's "Get applicant
// data" documents one) becomes kycd's vocabulary: recognised data first,
// alpha-3 countries as alpha-2, names as people write them, GREEN active
// images only.
func TestVerificationMapping(t *testing.T) {
	var a Applicant
	raw := `{"id":"5cb56e8e0a975a35f333cb83","createdAt":"2020-06-24 05:05:14","inspectionId":"5b594ade0a975a36c9379e67",
	  "info":{"firstName":"CHRISTIAN","lastName":"SMITH","dob":"1989-07-16","country":"CAN",
	    "addresses":[{"street":"22 MOUNT STREET","state":"Ontario","stateEn":"ON","town":"TORONTO","postCode":"M5A1L2","country":"CAN"}],
	    "idDocs":[{"idDocType":"PASSPORT","country":"CAN","firstName":"CHRISTIAN","lastName":"SMITH","validUntil":"2030-01-01","number":"1234567890","dob":"1989-07-16"}]},
	  "fixedInfo":{"firstName":"Christian","lastName":"Smith","gender":"M","nationality":"CAN"},
	  "review":{"reviewDate":"2020-06-24 05:12:58+0000","reviewResult":{"reviewAnswer":"GREEN"},"reviewStatus":"completed"}}`
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		t.Fatal(err)
	}
	var images []Image
	if err := json.Unmarshal([]byte(`[{"id":"1","idDocDef":{"country":"CAN","idDocType":"PASSPORT","idDocSubType":"FRONT_SIDE"},"reviewResult":{"reviewAnswer":"GREEN"}},
	  {"id":"2","idDocDef":{"idDocType":"PASSPORT","idDocSubType":"BACK_SIDE"},"reviewResult":{"reviewAnswer":"RED"}},
	  {"id":"3","idDocDef":{"idDocType":"SELFIE"},"reviewResult":{"reviewAnswer":"GREEN"},"deactivated":true},
	  {"id":"4","idDocDef":{"idDocType":"UTILITY_BILL"},"reviewResult":{"reviewAnswer":"GREEN"}}]`), &images); err != nil {
		t.Fatal(err)
	}
	v := verification(&a, images)
	if v.Profile.FullName != "Christian Smith" || v.Profile.PrimaryCitizenship != "CA" || v.Profile.Birthdate != "1989-07-16" {
		t.Errorf("profile: %+v", v.Profile)
	}
	if d := v.Identity.Document; d.Type != "passport" || d.Country != "CA" || d.Number != "1234567890" || d.ExpiresAt != "2030-01-01" {
		t.Errorf("document: %+v", d)
	}
	if v.Identity.VerifiedAt != "2020-06-24T05:12:58.000Z" || v.Identity.Person.Gender != "male" {
		t.Errorf("identity: %+v", v.Identity)
	}
	if v.Address.Country != "CA" || v.Address.City != "Toronto" || v.Address.PostalCode != "M5A1L2" || v.Address.Subdivision != "" {
		t.Errorf("address: %+v", v.Address)
	}
	if len(v.Media) != 2 || v.Media[0].ID != "1" || v.Media[0].Locator != a.InspectionID || v.Media[1].Process != "proof-of-address" {
		t.Errorf("media: %+v", v.Media)
	}
}
