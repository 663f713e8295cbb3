package auth

import (
	"regexp"

	"github.com/kycd/kycd"
)

// Subject kinds of the X-On-Behalf-Of header.
const (
	SubjectUser   = "user"
	SubjectClient = "client"
)

// onBehalfOf is Uphold's pattern for the header: a kind, one white-space
// character and a lower-case RFC 4122 UUID.
var onBehalfOf = regexp.MustCompile(`^(user|client)\s([0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[089ab][0-9a-f]{3}-[0-9a-f]{12})$`)

// ParseOnBehalfOf parses an X-On-Behalf-Of header value ("user <uuid>"). A
// malformed value is a request_invalid error on the header.
func ParseOnBehalfOf(v string) (kind, id string, err error) {
	m := onBehalfOf.FindStringSubmatch(v)
	if m == nil {
		return "", "", kycd.Invalid("headers", kycd.Violation{
			Property: "x-on-behalf-of", Rule: "pattern",
			RuleParams: map[string]any{"pattern": onBehalfOf.String()},
		})
	}
	return m[1], m[2], nil
}
