package kyc

import (
	"testing"

	"github.com/kycd/kycd"
)

// TestEveryUpdateTyped: every process that takes updates has an input
// type for the HTTP edge to decode into, and no other process has one.
func TestEveryUpdateTyped(t *testing.T) {
	for _, code := range kycd.ProcessCodes {
		_, updatable := updaters[code]
		if in := kycd.NewProcessInput(code); (in != nil) != updatable {
			t.Errorf("%s: updatable %v, input type %T", code, updatable, in)
		}
		if out := kycd.NewProcessOutput(code); out != nil && !updatable {
			t.Errorf("%s: not updatable, output type %T", code, out)
		}
	}
}

// TestInputOfOtherProcess: an input or output of another process's type
// is request_invalid; none given reads as empty input and no output.
func TestInputOfOtherProcess(t *testing.T) {
	up := &kycd.ProcessUpdate{Input: &kycd.EmailInput{}, Output: &kycd.FormOutput{}}
	if _, err := inputOf[kycd.PhoneInput](up); kycd.ErrorCode(err) != kycd.ERequestInvalid {
		t.Errorf("input: %v", err)
	}
	if _, err := outputOf[kycd.VerifiedAtOutput](up); kycd.ErrorCode(err) != kycd.ERequestInvalid {
		t.Errorf("output: %v", err)
	}
	none := &kycd.ProcessUpdate{}
	if in, err := inputOf[kycd.PhoneInput](none); err != nil || in == nil || *in != (kycd.PhoneInput{}) {
		t.Errorf("no input: %v %v", in, err)
	}
	if out, err := outputOf[kycd.VerifiedAtOutput](none); err != nil || out != nil {
		t.Errorf("no output: %v %v", out, err)
	}
}
