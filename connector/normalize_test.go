package connector

import "testing"

func TestDocumentType(t *testing.T) {
	for _, c := range []struct{ provider, in, want string }{
		{Sumsub, "PASSPORT", DocPassport}, {Sumsub, "ID_CARD", DocIDCard}, {Sumsub, "DRIVERS", DocDrivingLicense},
		{Sumsub, "RESIDENCE_PERMIT", DocResidencePermit}, {Sumsub, "VISA", DocUnsupported}, {Sumsub, "DRIVERS_LICENSE", DocUnsupported},
		{Veriff, "DRIVERS_LICENSE", DocDrivingLicense}, {Veriff, "passport", DocPassport}, {Veriff, "OTHER", DocUnsupported},
	} {
		if got := DocumentType(c.provider, c.in); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.provider, c.in, got, c.want)
		}
	}
}

func TestCountry(t *testing.T) {
	for in, want := range map[string]string{"GB": "GB", "GBR": "GB", "can": "CA", "USA": "US", " DE ": "DE"} {
		if got, ok := Country(in); !ok || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "XX", "XXX", "United Kingdom", "G"} {
		if got, ok := Country(bad); ok {
			t.Errorf("%q accepted as %q", bad, got)
		}
	}
}

func TestMediaContexts(t *testing.T) {
	for in, want := range map[string]string{"document-front": MediaDocumentFront, "document-front-pre": MediaDocumentFront,
		"document-back": MediaDocumentBack, "face": MediaSelfie, "face-pre": MediaSelfie, "document-and-face": MediaSelfieAndDoc,
		"address-front": MediaAddressProof, "document-front-qrcode": "", "face-cropped": ""} {
		if got := VeriffMediaContext(in, false); got != want {
			t.Errorf("veriff %s: %q, want %q", in, got, want)
		}
	}
	if VeriffMediaContext("selfid_video", true) != MediaVideo {
		t.Error("veriff video")
	}
	for _, c := range []struct{ typ, sub, want string }{
		{"PASSPORT", "", MediaDocumentFront}, {"ID_CARD", "FRONT_SIDE", MediaDocumentFront}, {"ID_CARD", "BACK_SIDE", MediaDocumentBack},
		{"SELFIE", "", MediaSelfie}, {"VIDEO_SELFIE", "", MediaVideo}, {"UTILITY_BILL", "", MediaAddressProof},
		{"INCOME_SOURCE", "", ""}, {"VISA", "", MediaDocumentFront},
	} {
		if got := SumsubMediaContext(c.typ, c.sub); got != c.want {
			t.Errorf("sumsub %s/%s: %q, want %q", c.typ, c.sub, got, c.want)
		}
	}
}

func TestNameAndDate(t *testing.T) {
	for in, want := range map[string]string{"SARAH": "Sarah", "JEAN-LUC  PICARD": "Jean-Luc Picard", "O'BRIEN": "O'Brien",
		"josé maría": "José María", "McDonald": "McDonald", "ÉMILIE": "Émilie"} {
		if got := Name(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	if d, ok := Date("1967-03-30"); !ok || d != "1967-03-30" {
		t.Error("a valid date refused")
	}
	for _, bad := range []string{"1967-13-01", "30/03/1967", ""} {
		if _, ok := Date(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}
