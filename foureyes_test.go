package kycd

import "testing"

// TestFourEyesStep: no proposal makes one; the proposer again is refused
// (names compared trimmed and without case); another reviewer confirms the
// same outcome and disputes another.
func TestFourEyesStep(t *testing.T) {
	for _, c := range []struct {
		proposer, proposed, reviewer, outcome string
		want, reason                          string
	}{
		{"", "", "ana", "approved", FourEyesProposed, ""},
		{"ana", "approved", "bo", "approved", FourEyesConfirmed, ""},
		{"ana", "approved", "bo", "rejected", FourEyesDisputed, ""},
		{"ana", "approved", " ANA ", "approved", "", ReasonFourEyesSameReviewer},
		{"ana", "approved", "Ana", "rejected", "", ReasonFourEyesSameReviewer},
	} {
		got, err := FourEyesStep(c.proposer, c.proposed, c.reviewer, c.outcome)
		if c.reason != "" {
			e, ok := AsError(err)
			if !ok || e.Code != EOperationNotAllowed || e.Details["reasons"].([]string)[0] != c.reason {
				t.Errorf("%+v: %v, want %s", c, err, c.reason)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%+v: %q %v, want %q", c, got, err, c.want)
		}
	}
}
