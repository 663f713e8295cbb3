package kyc

import "github.com/kycd/kycd"

// inputOf is an update's input as its process's type T (empty when none is
// given). Another process's type is refused as an input of the wrong
// type: a mistake of a caller inside kycd, which the HTTP edge, decoding
// into the process's type, cannot make.
func inputOf[T any, P interface {
	*T
	kycd.ProcessInput
}](up *kycd.ProcessUpdate) (P, error) {
	if up.Input == nil {
		return P(new(T)), nil
	}
	in, ok := up.Input.(P)
	if !ok {
		return nil, kycd.Invalid("body", kycd.Violation{Property: "input", Rule: "type"})
	}
	if in == nil {
		return P(new(T)), nil
	}
	return in, nil
}

// outputOf is an update's output as its process's type T: nil when none is
// given (the partner did not verify), request_invalid when it is another
// process's type.
func outputOf[T any, P interface {
	*T
	kycd.ProcessOutput
}](up *kycd.ProcessUpdate) (P, error) {
	if up.Output == nil {
		return nil, nil
	}
	out, ok := up.Output.(P)
	if !ok {
		return nil, kycd.Invalid("body", kycd.Violation{Property: "output", Rule: "type"})
	}
	return out, nil
}
