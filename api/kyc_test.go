package api

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/kycd/kycd"
)

// TestProcessPartsRoundTrip: a process update the request schema accepts
// decodes into the process's types, and encodes back to the same JSON
// objects. The KYC service stores what it decoded (an identity's input and
// output, a partner's form output) and shows it: this is what keeps the
// stored objects the request's.
func TestProcessPartsRoundTrip(t *testing.T) {
	t.Parallel()
	s, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	const file = "470b2192-893f-4ce6-9daa-816d4c319a84"
	person := `{"givenName":"John","familyName":"Doe","birthdate":"1987-01-01","gender":"male","citizenshipCountry":"GB",` +
		`"address":{"country":"GB","subdivision":"GB-ENG","city":"London","line1":"1 Main St","line2":"Flat 2","postalCode":"SW1A 1AA"}}`
	for code, bodies := range map[string][]string{
		kycd.ProcessProfile: {`{"input":{"fullName":"John Doe","birthdate":"1987-01-01","birthplace":{"country":"GB","town":"Leeds"},` +
			`"primaryCitizenship":"GB","otherCitizenships":["PT"],"address":{"city":"London","line2":null}}}`,
			`{"input":{"details":{"identification":{"ssn":"1"}}}}`,
			`{"input":{"citizenshipCountry":"GB","otherCitizenships":[]}}`},
		kycd.ProcessAddress: {`{"input":{"address":{"subdivision":"GB-ENG","city":"London","line1":"1 Main St","line2":null,"postalCode":"SW1A 1AA"}}}`},
		kycd.ProcessEmail:   {`{"input":{"email":"john@example.com"},"output":{"verifiedAt":"2020-01-01T00:00:00Z"}}`, `{"input":{"email":"john@example.com"}}`},
		kycd.ProcessPhone:   {`{"input":{"phone":"+447700900123","country":"GB"},"output":{"verifiedAt":"2020-01-01T00:00:00Z"}}`},
		kycd.ProcessIdentity: {
			`{"type":"document-submission","input":{"media":[{"context":"photo-document-front","fileId":"` + file + `"}]},` +
				`"output":{"provider":"veriff","document":{"type":"passport","number":"X123","country":"GB","expiresAt":"2030-01-01"},"person":` + person + `,"verifiedAt":"2020-01-01T00:00:00Z"}}`,
			`{"type":"electronic-verification","input":{"data":` + person + `},"output":{"provider":"veriff","verifiedAt":"2020-01-01T00:00:00.123Z"}}`},
		kycd.ProcessProofOfAddress: {
			`{"type":"document-submission","input":{"media":[{"context":"address-proof","fileId":"` + file + `"}]},` +
				`"output":{"provider":"veriff","person":` + person + `,"verifiedAt":"2020-01-01T00:00:00Z"}}`,
			`{"type":"electronic-verification","input":{"data":` + person + `},"output":{"provider":"veriff","verifiedAt":"2020-01-01T00:00:00Z"}}`},
		kycd.ProcessCDD: {`{"input":{"formId":"` + file + `","answers":{"intent":{"expected-activities":["cryptocurrency_investing"],"n":1.5}}},` +
			`"output":{"score":"high","expiresAt":"2030-01-01T00:00:00Z","verifiedAt":"2020-01-01T00:00:00Z"}}`},
		kycd.ProcessEDD: {`{"input":{"media":[{"context":"source-of-funds-proof","fileId":"` + file + `"}]},"output":{"verifiedAt":"2020-01-01T00:00:00Z"}}`},
		kycd.ProcessCRA: {`{"input":{"answers":{"a":{"b":true}}},"output":{"result":"rejected","attempts":{"used":2,"maximum":3},"verifiedAt":"2020-01-01T00:00:00Z"}}`,
			`{"input":{"answers":{"a":{}}},"output":{"result":"approved","attempts":{"used":1.0,"maximum":3},"verifiedAt":"2020-01-01T00:00:00Z"}}`},
		kycd.ProcessSCS:        {`{"input":{"answers":{"a":{}}},"output":{"result":"approved","attempts":{"used":1,"maximum":1},"expiresAt":"2030-01-01T00:00:00Z","verifiedAt":"2020-01-01T00:00:00Z"}}`},
		kycd.ProcessTaxDetails: {`{"input":{"taxResidency":{"countries":["GB","PT"]}},"output":{"result":"approved","verifiedAt":"2020-01-01T00:00:00Z"}}`},
	} {
		for _, body := range bodies {
			v, err := parseJSON([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.validate("update-kyc-"+code+"-request", v); err != nil {
				t.Errorf("%s: the schema refuses the example %s: %v", code, body, err)
				continue
			}
			var req processRequest
			if err := json.Unmarshal([]byte(body), &req); err != nil {
				t.Fatal(err)
			}
			in, err := decodePart(req.Input, kycd.NewProcessInput(code))
			if err != nil {
				t.Errorf("%s: input of %s: %v", code, body, err)
				continue
			}
			out, err := decodePart(req.Output, kycd.NewProcessOutput(code))
			if err != nil {
				t.Errorf("%s: output of %s: %v", code, body, err)
				continue
			}
			if (out == nil) != (req.Output == nil) {
				t.Errorf("%s: output given %v, decoded %v", code, req.Output != nil, out)
			}
			for _, part := range []struct {
				name string
				raw  json.RawMessage
				v    any
			}{{"input", req.Input, in}, {"output", req.Output, out}} {
				if part.raw == nil || code == kycd.ProcessProfile || code == kycd.ProcessAddress {
					continue // the profile's and address's inputs are patches: null is kept as "" (TestAddressPatchNull)
				}
				var want, got any
				if err := json.Unmarshal(part.raw, &want); err != nil {
					t.Fatal(err)
				}
				again, err := json.Marshal(part.v)
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(again, &got); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: %s %s encodes back as %s", code, part.name, part.raw, again)
				}
			}
		}
	}
}

// TestProcessPartsWrongProcess: a part the process does not take (the
// profile's output) is refused as decode refuses what its type cannot hold.
func TestProcessPartsWrongProcess(t *testing.T) {
	t.Parallel()
	if _, err := decodePart(json.RawMessage(`{"verifiedAt":"2020-01-01T00:00:00Z"}`), kycd.NewProcessOutput(kycd.ProcessProfile)); kycd.ErrorCode(err) != kycd.ERequestInvalid {
		t.Errorf("profile output: %v, want request_invalid", err)
	}
	if in, err := decodePart(nil, kycd.NewProcessInput(kycd.ProcessEmail)); in != nil || err != nil {
		t.Errorf("no input: %v %v, want nil", in, err)
	}
}
