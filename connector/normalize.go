package connector

import (
	"strings"
	"time"
	"unicode"

	"github.com/biter777/countries"
)

// Providers whose vocabulary the connector maps.
const (
	Sumsub = "sumsub"
	Veriff = "veriff"
)

// Document types of the Core KYC API (api/openapi.yaml).
const (
	DocPassport        = "passport"
	DocIDCard          = "id-card"
	DocDrivingLicense  = "driving-license"
	DocResidencePermit = "residence-permit"
	DocUnsupported     = "unsupported"
)

var documentTypes = map[string]map[string]string{
	Sumsub: {"PASSPORT": DocPassport, "ID_CARD": DocIDCard, "DRIVERS": DocDrivingLicense, "RESIDENCE_PERMIT": DocResidencePermit},
	Veriff: {"PASSPORT": DocPassport, "ID_CARD": DocIDCard, "DRIVERS_LICENSE": DocDrivingLicense, "RESIDENCE_PERMIT": DocResidencePermit},
}

// DocumentType maps a provider's identity document type to kycd's
// (unsupported for visas, voter ids and anything else).
func DocumentType(provider, value string) string {
	if t, ok := documentTypes[provider][strings.ToUpper(strings.TrimSpace(value))]; ok {
		return t
	}
	return DocUnsupported
}

// Country maps an ISO 3166-1 alpha-2 or alpha-3 code to alpha-2 (Sumsub
// speaks alpha-3, Veriff mostly alpha-2); false for anything else.
func Country(code string) (string, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if len(code) != 2 && len(code) != 3 {
		return "", false
	}
	c := countries.ByName(code) // takes codes too
	if !c.IsValid() || (c.Alpha2() != code && c.Alpha3() != code) {
		return "", false
	}
	return c.Alpha2(), true
}

// Media contexts of the Core KYC API.
const (
	MediaDocumentFront = "photo-document-front"
	MediaDocumentBack  = "photo-document-back"
	MediaSelfie        = "photo-selfie"
	MediaSelfieAndDoc  = "photo-selfie-and-document-front"
	MediaVideo         = "video"
	MediaAddressProof  = "address-proof"
)

// VeriffMediaContext maps a Veriff media context to kycd's ("" when the
// connector does not import it). The "-pre" first captures map like the
// final ones.
func VeriffMediaContext(context string, video bool) string {
	if video {
		return MediaVideo
	}
	switch strings.TrimSuffix(context, "-pre") {
	case "document-front":
		return MediaDocumentFront
	case "document-back":
		return MediaDocumentBack
	case "face":
		return MediaSelfie
	case "document-and-face":
		return MediaSelfieAndDoc
	case "address-front":
		return MediaAddressProof
	}
	return ""
}

var sumsubAddressDocs = map[string]bool{"UTILITY_BILL": true, "UTILITY_BILL2": true, "PROOF_OF_ADDRESS": true, "BANK_STATEMENT": true, "RENTAL_AGREEMENT": true}

// SumsubMediaContext maps a Sumsub image (its idDocType and idDocSubType)
// to kycd's media context ("" when the connector does not import it).
func SumsubMediaContext(idDocType, idDocSubType string) string {
	switch {
	case idDocType == "SELFIE" || idDocType == "PROFILE_IMAGE":
		return MediaSelfie
	case idDocType == "VIDEO_SELFIE" || idDocType == "IDENTITY_VIDEO":
		return MediaVideo
	case sumsubAddressDocs[idDocType]:
		return MediaAddressProof
	case DocumentType(Sumsub, idDocType) == DocUnsupported && idDocType != "VISA" && idDocType != "VOTER_ID":
		return ""
	case idDocSubType == "BACK_SIDE":
		return MediaDocumentBack
	}
	return MediaDocumentFront
}

// Name turns a provider's name (often upper case) into how people write it:
// "SARAH" → "Sarah", "JEAN-LUC" → "Jean-Luc", "O'BRIEN" → "O'Brien".
// Mixed-case names are kept as given.
func Name(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s != strings.ToUpper(s) && s != strings.ToLower(s) {
		return s
	}
	out := []rune(strings.ToLower(s))
	start := true
	for i, r := range out {
		if start && unicode.IsLetter(r) {
			out[i] = unicode.ToUpper(r)
		}
		start = r == ' ' || r == '-' || r == '\'' || r == '’'
	}
	return string(out)
}

// Date checks a YYYY-MM-DD date, returning it or false.
func Date(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", false
	}
	return s, true
}
