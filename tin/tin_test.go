package tin

import "testing"

func TestValid(t *testing.T) {
	for _, c := range []struct {
		country, number string
		valid           bool
	}{
		// Published examples (tax authorities, OECD/EU TIN sheets) and their
		// one-digit alterations.
		{"GB", "1234567890", false},
		{"GB", "AB123456C", true},
		{"GB", "AB 12 34 56 C", true},
		{"GB", "GB123456C", false}, // never allocated prefix
		{"GB", "AB123456E", false}, // suffix beyond D
		{"US", "123-45-6789", true},
		{"US", "000-45-6789", false},
		{"US", "666-45-6789", false},
		{"US", "123-00-6789", false},
		{"US", "912-70-1234", true}, // ITIN
		{"US", "912-40-1234", false},
		{"DE", "86095742719", true},
		{"DE", "86095742718", false},
		{"DE", "11111111111", false},
		{"DE", "65929970489", true},
		{"FR", "3023217600053", true},
		{"FR", "3023217600054", false},
		{"FR", "4023217600053", false},
		{"ES", "12345678Z", true},
		{"ES", "12345678A", false},
		{"ES", "X1234567L", true},
		{"IT", "RSSMRA85T10A562S", true},
		{"IT", "RSSMRA85T10A562T", false},
		{"NL", "111222333", true},
		{"NL", "111222334", false},
		{"PT", "123456789", true},
		{"PT", "123456780", false},
	} {
		if got, known := Valid(c.country, c.number); !known || got != c.valid {
			t.Errorf("Valid(%s, %s) = %v, %v; want %v", c.country, c.number, got, known, c.valid)
		}
	}
	if v, known := Valid("JP", "anything"); !v || known {
		t.Error("an unchecked country must be valid and unknown")
	}
}

// TestGBUTR computes a valid UTR from its check rule and alters it.
func TestGBUTR(t *testing.T) {
	body := "234567890"
	for first := byte('0'); first <= '9'; first++ {
		s := string(first) + body
		if gbUTR(s) {
			if v, _ := Valid("GB", s); !v {
				t.Fatalf("%s: UTR check passes but Valid refuses", s)
			}
			alt := string(first) + "234567891"
			if gbUTR(alt) && alt != s {
				t.Errorf("%s: an altered digit still passes", alt)
			}
			return
		}
	}
	t.Fatal("no check digit makes the UTR valid")
}

func FuzzValid(f *testing.F) {
	for _, s := range []string{"86095742719", "RSSMRA85T10A562S", "X1234567L", "AB123456C", ""} {
		f.Add("DE", s)
		f.Add("IT", s)
	}
	f.Fuzz(func(t *testing.T, country, number string) {
		Valid(country, number) // must not panic
	})
}
