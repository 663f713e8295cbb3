package kycd

import "testing"

// TestDocumentLinkHolds: a live user's link and that of a user closed for a
// violation hold the document; any other closure releases it.
func TestDocumentLinkHolds(t *testing.T) {
	for reason, want := range map[string]bool{"": true, UserDeletionFraud: true, UserDeletionCompliance: true,
		"closure-per-user-request": false, "business-decision": false, "other": false} {
		if got := (&DocumentLink{UserID: "u", ClosureReason: reason}).Holds(); got != want {
			t.Errorf("closed for %q: Holds() = %v, want %v", reason, got, want)
		}
	}
}
