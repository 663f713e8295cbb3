// Package tin checks tax identification numbers of individuals with each
// country's published structure and check-digit rules (the OECD's TIN
// sheets and the EU's TIN specifications):
//
//   - GB: a Unique Taxpayer Reference (10 digits, weighted modulus 11 check
//     digit first) or a National Insurance number (two letters, six digits,
//     A–D, with HMRC's excluded prefixes).
//   - US: a Social Security Number or ITIN (no check digit exists; the
//     issuance rules exclude area 000, 666 and 900–999 for SSNs, group 00
//     and serial 0000).
//   - DE: the Steuerliche Identifikationsnummer (11 digits, ISO 7064
//     MOD 11,10 check digit, one digit repeated two or three times in the
//     first ten).
//   - FR: the numéro fiscal (13 digits, first 0–3, last three = first ten
//     modulo 511).
//   - ES: the DNI or NIE (8 digits, or X/Y/Z and 7 digits, then the
//     modulus 23 control letter).
//   - IT: the codice fiscale (16 characters, odd/even table check letter).
//   - NL: the BSN (9 digits, the "elfproef": weights 9..2 and −1, modulus 11).
//   - PT: the NIF (9 digits, weights 9..2, modulus 11 check digit).
package tin

import (
	"regexp"
	"strconv"
	"strings"
)

// Checked lists the countries whose numbers Valid checks.
var Checked = []string{"DE", "ES", "FR", "GB", "IT", "NL", "PT", "US"}

// Valid reports whether number is a well-formed TIN of country, and known
// whether kycd has rules for that country (unknown countries are valid).
func Valid(country, number string) (valid, known bool) {
	n := compact(number)
	switch country {
	case "GB":
		return gbUTR(n) || gbNINO(n), true
	case "US":
		return us(n), true
	case "DE":
		return de(n), true
	case "FR":
		return fr(n), true
	case "ES":
		return es(n), true
	case "IT":
		return it(n), true
	case "NL":
		return nl(n), true
	case "PT":
		return pt(n), true
	}
	return true, false
}

// compact drops the separators people write numbers with.
func compact(s string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' || r == '/' {
			return -1
		}
		return r
	}, s))
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func d(s string, i int) int { return int(s[i] - '0') }

// gbUTR: the first digit checks the other nine with weights 6,7,8,9,10,5,4,3,2.
func gbUTR(s string) bool {
	if !digits(s, 10) {
		return false
	}
	weights := []int{6, 7, 8, 9, 10, 5, 4, 3, 2}
	sum := 0
	for i, w := range weights {
		sum += d(s, i+1) * w
	}
	return d(s, 0) == []int{2, 1, 9, 8, 7, 6, 5, 4, 3, 2, 1}[sum%11]
}

var nino = regexp.MustCompile(`^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$`)

// gbNINO: HMRC's format, without the prefixes it never allocates.
func gbNINO(s string) bool {
	if !nino.MatchString(s) {
		return false
	}
	switch s[:2] {
	case "BG", "GB", "NK", "KN", "TN", "NT", "ZZ":
		return false
	}
	return true
}

// us: SSN or ITIN issuance rules.
func us(s string) bool {
	if !digits(s, 9) {
		return false
	}
	area, group, serial := s[:3], s[3:5], s[5:]
	if area[0] == '9' { // ITIN: 9XX-[50-65,70-88,90-92,94-99]-XXXX
		g, _ := strconv.Atoi(group)
		return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || g >= 94
	}
	return area != "000" && area != "666" && group != "00" && serial != "0000"
}

// de: ISO 7064 MOD 11,10 and the repetition rule.
func de(s string) bool {
	if !digits(s, 11) || s[0] == '0' {
		return false
	}
	counts := map[byte]int{}
	for i := 0; i < 10; i++ {
		counts[s[i]]++
	}
	repeated := 0
	for _, c := range counts {
		if c > 3 {
			return false
		}
		if c > 1 {
			repeated++
		}
	}
	if repeated != 1 {
		return false
	}
	product := 10
	for i := 0; i < 10; i++ {
		sum := (d(s, i) + product) % 10
		if sum == 0 {
			sum = 10
		}
		product = (sum * 2) % 11
	}
	check := 11 - product
	if check == 10 {
		check = 0
	}
	return check == d(s, 10)
}

// fr: 13 digits, first 0–3, the last three are the first ten modulo 511.
func fr(s string) bool {
	if !digits(s, 13) || s[0] > '3' {
		return false
	}
	head, _ := strconv.ParseInt(s[:10], 10, 64)
	tail, _ := strconv.ParseInt(s[10:], 10, 64)
	return head%511 == tail
}

const esLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// es: DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter).
func es(s string) bool {
	if len(s) != 9 {
		return false
	}
	body := s[:8]
	switch body[0] {
	case 'X':
		body = "0" + body[1:]
	case 'Y':
		body = "1" + body[1:]
	case 'Z':
		body = "2" + body[1:]
	}
	if !digits(body, 8) {
		return false
	}
	n, _ := strconv.Atoi(body)
	return s[8] == esLetters[n%23]
}

var (
	itShape = regexp.MustCompile(`^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`)
	itOdd   = []int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}
)

// it: the codice fiscale's shape and check letter.
func it(s string) bool {
	if !itShape.MatchString(s) {
		return false
	}
	sum := 0
	for i := 0; i < 15; i++ {
		c := s[i]
		v := int(c - 'A')
		if c >= '0' && c <= '9' {
			v = int(c - '0')
		}
		if i%2 == 0 { // odd positions, counting from one
			sum += itOdd[v]
		} else {
			sum += v
		}
	}
	return s[15] == byte('A'+sum%26)
}

// nl: the elfproef.
func nl(s string) bool {
	if !digits(s, 9) {
		return false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		sum += d(s, i) * (9 - i)
	}
	sum -= d(s, 8)
	return sum%11 == 0 && s != "000000000"
}

// pt: weights 9..2, check digit 11 − sum mod 11 (0 when that is 10 or 11).
func pt(s string) bool {
	if !digits(s, 9) || s[0] == '0' {
		return false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		sum += d(s, i) * (9 - i)
	}
	check := 11 - sum%11
	if check >= 10 {
		check = 0
	}
	return check == d(s, 8)
}
