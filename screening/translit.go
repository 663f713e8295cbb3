package screening

import (
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"
	"golang.org/x/text/unicode/norm"
)

// Transliteration of the scripts listed names come in (Cyrillic, Greek,
// Arabic and Persian, Hangul, Han) into lower-case Latin letters, so that a
// name in its original script is compared with its Latin listing through the
// same keys. The tables follow the common English-language romanisations
// (BGN/PCGN-like for Cyrillic and Arabic, Revised Romanization for Hangul,
// pinyin for Han); the remaining differences between romanisations are what
// the canonical and skeleton keys (normalize.go) absorb.

// cyrillic maps lower-case Cyrillic letters (Russian, Ukrainian, Belarusian,
// Serbian, Macedonian, Kazakh additions) to Latin.
var cyrillic = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh",
	'з': "z", 'и': "i", 'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o",
	'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts",
	'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu",
	'я': "ya", 'є': "ye", 'і': "i", 'ї': "yi", 'ґ': "g", 'ў': "u", 'ђ': "dj", 'ј': "j",
	'љ': "lj", 'њ': "nj", 'ћ': "c", 'џ': "dz", 'ѓ': "gj", 'ќ': "kj", 'ѕ': "dz",
	'ә': "a", 'ғ': "g", 'қ': "k", 'ң': "ng", 'ө': "o", 'ұ': "u", 'ү': "u", 'һ': "h",
}

// greek maps lower-case Greek letters to Latin (ELOT 743-like).
var greek = map[rune]string{
	'α': "a", 'β': "v", 'γ': "g", 'δ': "d", 'ε': "e", 'ζ': "z", 'η': "i", 'θ': "th",
	'ι': "i", 'κ': "k", 'λ': "l", 'μ': "m", 'ν': "n", 'ξ': "x", 'ο': "o", 'π': "p",
	'ρ': "r", 'σ': "s", 'ς': "s", 'τ': "t", 'υ': "y", 'φ': "f", 'χ': "ch", 'ψ': "ps",
	'ω': "o",
}

// arabic maps Arabic and Persian letters to Latin. Arabic script writes no
// short vowels, so the result is close to a consonant skeleton: alif gives
// "a", waw and ya give "w" and "y", which the skeleton key drops after the
// first letter as it drops Latin vowels. Ayn and hamza carriers give "a" at
// the start of a word (where Latin writes a vowel: 'Abd, Ibrahim) and
// nothing elsewhere.
var arabic = map[rune]string{
	'ا': "a", 'أ': "a", 'إ': "i", 'آ': "a", 'ٱ': "a", 'ء': "", 'ئ': "", 'ؤ': "",
	'ب': "b", 'ت': "t", 'ث': "th", 'ج': "j", 'ح': "h", 'خ': "kh", 'د': "d", 'ذ': "dh",
	'ر': "r", 'ز': "z", 'س': "s", 'ش': "sh", 'ص': "s", 'ض': "d", 'ط': "t", 'ظ': "dh",
	'ع': "", 'غ': "gh", 'ف': "f", 'ق': "q", 'ك': "k", 'ل': "l", 'م': "m", 'ن': "n",
	'ه': "h", 'ة': "a", 'و': "w", 'ي': "y", 'ى': "a",
	// Persian, Urdu and Pashto letters.
	'پ': "p", 'چ': "ch", 'ژ': "zh", 'گ': "g", 'ک': "k", 'ی': "y", 'ە': "a", 'ۀ': "a",
	'ٹ': "t", 'ڈ': "d", 'ڑ': "r", 'ں': "n", 'ھ': "h", 'ہ': "h", 'ے': "e", 'ۍ': "y",
	'ې': "e", 'ښ': "sh", 'ږ': "zh", 'ځ': "z", 'څ': "ts", 'ټ': "t", 'ډ': "d", 'ړ': "r",
	'ڼ': "n", 'ګ': "g",
}

// arabicStartVowel holds the letters that give a vowel at the start of a word.
var arabicStartVowel = map[rune]bool{'ع': true, 'ء': true, 'ئ': true, 'ؤ': true}

// Hangul syllables decompose algorithmically into jamo; these are their
// Revised Romanization spellings.
var (
	hangulInitial = []string{"g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h"}
	hangulMedial  = []string{"a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi", "yu", "eu", "ui", "i"}
	hangulFinal   = []string{"", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t"}
)

var pinyinArgs = pinyin.NewArgs()

// script tells which transliteration a letter needs.
type script uint8

const (
	scriptLatin script = iota
	scriptCyrillic
	scriptGreek
	scriptArabic
	scriptHangul
	scriptHan
	scriptOther
)

func scriptOf(r rune) script {
	switch {
	case r < 0x250:
		return scriptLatin
	case unicode.Is(unicode.Cyrillic, r):
		return scriptCyrillic
	case unicode.Is(unicode.Greek, r):
		return scriptGreek
	case unicode.Is(unicode.Arabic, r):
		return scriptArabic
	case r >= 0xAC00 && r <= 0xD7A3:
		return scriptHangul
	case unicode.Is(unicode.Han, r):
		return scriptHan
	case unicode.IsLetter(r):
		return scriptOther
	}
	return scriptLatin
}

// transliterate writes s in lower-case Latin letters. Letters of other
// scripts become Latin; characters it cannot read are kept for folding. It
// reports whether s held Arabic script (whose vowels are not written), and
// whether it held Han (whose characters are syllables that it joins as a
// Chinese name: family name first, then the given name in one word).
//
// With alt, the Arabic letters that Persian, Urdu and Pashto (and many
// romanisations) read otherwise are written so: tha as s (Saqib, Thaqib),
// dhal, dad and za as z, shin as the French ch, a final ha as the vowel a.
func transliterate(s string, alt bool) (out string, arabicScript bool) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s, false
	}
	// Presentation forms (the contextual shapes of Arabic letters, as some
	// publishers type them) become the letters they show.
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	rs := []rune(s)
	wordAt := -1 // where a word starts after an article written with it
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == 'ـ' {
			continue // tatweel, the stretching of an Arabic letter
		}
		lr := unicode.ToLower(r)
		switch scriptOf(r) {
		case scriptCyrillic:
			if t, ok := cyrillic[lr]; ok {
				// Russian "е" at the start of a word or after a vowel is "ye".
				if lr == 'е' && (i == 0 || !unicode.IsLetter(rs[i-1]) || strings.ContainsRune("аеёиоуыэюяьъ", unicode.ToLower(rs[i-1]))) {
					t = "ye"
				}
				b.WriteString(t)
				continue
			}
		case scriptGreek:
			if _, ok := greek[lr]; !ok {
				// accented vowels: the letter under the accent
				if d := []rune(norm.NFD.String(string(lr))); len(d) > 0 {
					lr = d[0]
				}
			}
			if t, ok := greek[lr]; ok {
				b.WriteString(t)
				continue
			}
		case scriptArabic:
			arabicScript = true
			if t, ok := arabic[r]; ok {
				start := i == 0 || !unicode.Is(unicode.Arabic, rs[i-1]) || !unicode.IsLetter(rs[i-1]) || i == wordAt
				if start && arabicStartVowel[r] {
					t = "a"
				}
				// The definite article written as one word with its noun,
				// at the start of a word or inside a compound name
				// (نورالدين, Nur al-Din).
				inside := !start && i >= 2 && isArabicLetter(rs[i-1]) && isArabicLetter(rs[i-2]) && i+3 < len(rs) && isArabicLetter(rs[i+3])
				if (start || inside) && r == 'ا' && i+2 < len(rs) && rs[i+1] == 'ل' && isArabicLetter(rs[i+2]) {
					if inside {
						b.WriteByte(' ')
					}
					b.WriteString("al ")
					i++
					wordAt = i + 1
					continue
				}
				if alt {
					switch r {
					case 'ث':
						t = "s"
					case 'ذ', 'ض', 'ظ':
						t = "z"
					case 'ش':
						t = "ch" // the French spelling (Akkacha)
					case 'ه':
						// A final ha is often the vowel a (Juma, Zadeh),
						// but not in Allah.
						if (i+1 == len(rs) || !unicode.IsLetter(rs[i+1])) && i > 0 && rs[i-1] != 'ل' {
							t = "a"
						}
					}
				}
				// A ha after a letter that would make a Latin digraph
				// with it (ta and ha of Taha are not "th").
				if r == 'ه' && b.Len() > 0 && strings.IndexByte("tdkgscpz", b.String()[b.Len()-1]) >= 0 {
					t = "ah"
				}
				b.WriteString(t)
				continue
			}
			if !unicode.IsLetter(r) {
				// Arabic diacritics (harakat) and tatweel carry no letters.
				if unicode.Is(unicode.Mn, r) || r == 'ـ' {
					continue
				}
			}
		case scriptHangul:
			// A run of two to four syllables is read as a Korean name: the
			// family name, then the given name as one word.
			j := i
			for j < len(rs) && scriptOf(rs[j]) == scriptHangul {
				j++
			}
			b.WriteByte(' ')
			for k := i; k < j; k++ {
				n := int(rs[k] - 0xAC00)
				b.WriteString(hangulInitial[n/(21*28)])
				b.WriteString(hangulMedial[(n%(21*28))/28])
				b.WriteString(hangulFinal[n%28])
				if k == i && j-i >= 2 && j-i <= 4 {
					b.WriteByte(' ')
				}
			}
			b.WriteByte(' ')
			i = j - 1
			continue
		case scriptHan:
			j := i
			for j < len(rs) && scriptOf(rs[j]) == scriptHan {
				j++
			}
			writeHan(&b, rs[i:j])
			i = j - 1
			continue
		}
		b.WriteRune(r)
	}
	return b.String(), arabicScript
}

// writeHan writes a run of Han characters as pinyin: a run of two to four
// characters is read as a Chinese name (a one-character family name, then the
// given name's syllables as one word), longer runs syllable by syllable.
func writeHan(b *strings.Builder, rs []rune) {
	syl := make([]string, 0, len(rs))
	for _, r := range rs {
		p := pinyin.SinglePinyin(r, pinyinArgs)
		if len(p) == 0 {
			continue
		}
		syl = append(syl, p[0])
	}
	if len(syl) >= 2 && len(syl) <= 4 {
		b.WriteByte(' ')
		b.WriteString(syl[0])
		b.WriteByte(' ')
		b.WriteString(strings.Join(syl[1:], ""))
		b.WriteByte(' ')
		return
	}
	for _, s := range syl {
		b.WriteByte(' ')
		b.WriteString(s)
	}
	b.WriteByte(' ')
}

func isArabicLetter(r rune) bool { return unicode.Is(unicode.Arabic, r) && unicode.IsLetter(r) }
