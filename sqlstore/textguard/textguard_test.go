package textguard

import (
	"database/sql/driver"
	"errors"
	"testing"

	"github.com/kycd/kycd"
)

// plainConn is a driver connection with no optional interfaces.
type plainConn struct{ driver.Conn }

// FuzzCheckNamedValue: whatever text a statement's argument holds, the
// guard refuses it as request_invalid exactly when it is not
// kycd.ValidText, as a string, a *string or a driver.Valuer's value, and
// otherwise leaves it to the driver's conversion.
func FuzzCheckNamedValue(f *testing.F) {
	for _, s := range []string{"", "plain", "\x00", "a\x00b", "\xff", "caf\xc3", "\xed\xa0\x80", "é"} {
		f.Add(s)
	}
	c := Wrap(plainConn{})
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []any{s, &s, valuer(s)} {
			err := c.CheckNamedValue(&driver.NamedValue{Ordinal: 1, Value: v})
			switch {
			case kycd.ValidText(s) && !errors.Is(err, driver.ErrSkip):
				t.Fatalf("%T %q: %v, want the driver's conversion", v, s, err)
			case !kycd.ValidText(s) && kycd.ErrorCode(err) != kycd.ERequestInvalid:
				t.Fatalf("%T %q: %v, want request_invalid", v, s, err)
			}
		}
	})
}

type valuer string

func (v valuer) Value() (driver.Value, error) { return string(v), nil }
