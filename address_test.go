package kycd

import "testing"

func TestMailOnlyAndCareOfLines(t *testing.T) {
	for line, want := range map[string]bool{
		"PO Box 123": true, "P.O. Box 5": true, "p.o.box 9": true, "Post Office Box 7": true, "Postfach 10 11 12": true,
		"Postschließfach 4": true, "Packstation 105": true, "Postlagernd": true, "Boîte postale 12": true, "Apartado de correos 3": true,
		"Rosenweg 221": false, "Poststraße 4": false, "Boxhagener Straße 12": false, "Postboxer Weg 1": false, "Apoteket 3": false,
	} {
		if IsPOBox(line) != want {
			t.Errorf("IsPOBox(%q) = %v", line, !want)
		}
	}
	for line, want := range map[string]bool{
		"c/o Müller": true, "C/O Smith": true, "c / o Jones": true, "care of Mary": true, "z. Hd. Frau Meier": true, "z.Hd. Herr Kurz": true,
		"zu Händen Schulz": true, "p. A. Weber": true, "per Adresse Koch": true,
		"apt. 33": false, "Cosimaplatz 2": false, "Coburger Str. 3": false, "Marco Polo Weg 4": false,
	} {
		if IsCareOf(line) != want {
			t.Errorf("IsCareOf(%q) = %v", line, !want)
		}
	}
}
