package kycd

import (
	"strings"
	"unicode/utf8"
)

// ValidText reports whether s is text kycd stores as it is, on either
// database: valid UTF-8 without NUL characters (PostgreSQL's text holds
// neither). Input that is not is refused as request_invalid (rule "text")
// where it enters, and the store refuses it too, so none reaches a database.
func ValidText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// InvalidText is the error of text that is not ValidText: request_invalid
// naming where it was (context: body, query, params, headers) and the
// property ("" when unknown).
func InvalidText(context, property string) *Error {
	e := Invalid(context, Violation{Property: property, Rule: "text"})
	e.Message = "The request holds text that cannot be stored (a NUL character or invalid UTF-8)"
	return e
}
