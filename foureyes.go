package kycd

import "strings"

// Four-eyes steps: what a decision is when the tenant wants two reviewers
// (TenantSettings.FourEyes). Cases and KYC level applications follow the
// same rule (FourEyesStep).
const (
	// FourEyesProposed: the first decision, kept until a second reviewer
	// looks at it; it changes nothing yet.
	FourEyesProposed = "proposed"
	// FourEyesConfirmed: a second, different reviewer made the same
	// decision, which takes effect.
	FourEyesConfirmed = "confirmed"
	// FourEyesDisputed: a second, different reviewer made another decision;
	// the proposal is dropped and the question decided anew.
	FourEyesDisputed = "disputed"
)

// ReasonFourEyesSameReviewer is the reason of the refusal of a decision by
// the reviewer whose proposal awaits its second reviewer.
const ReasonFourEyesSameReviewer = "four-eyes-same-reviewer"

// FourEyesStep says what a decision (reviewer, outcome) is under four
// eyes, given the proposal awaiting its second reviewer (proposer and
// proposed; proposer "" when none awaits): a proposal when none awaits; a
// confirmation when another reviewer decides the proposed outcome; a
// dispute when another reviewer decides another. The proposer deciding
// again is refused: EOperationNotAllowed, reason
// ReasonFourEyesSameReviewer. Reviewers are the same person when their
// names are, spaces around and case aside.
func FourEyesStep(proposer, proposed, reviewer, outcome string) (string, error) {
	switch {
	case proposer == "":
		return FourEyesProposed, nil
	case sameReviewer(proposer, reviewer):
		return "", NotAllowed("Four eyes: a second, different reviewer must confirm the decision", ReasonFourEyesSameReviewer)
	case proposed == outcome:
		return FourEyesConfirmed, nil
	}
	return FourEyesDisputed, nil
}

// sameReviewer reports whether two decisions name the same person: the
// same name, spaces around and case aside.
func sameReviewer(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
