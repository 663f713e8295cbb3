package screening

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// A name is compared part by part. Normalizing a name turns it into parts:
// transliterated into Latin, folded (case, diacritics, punctuation), titles
// and honorifics removed, the Arabic "Abd al-" prefix split off. Each part
// then has three keys of decreasing precision: its folded spelling, a
// canonical spelling that absorbs the usual differences between
// romanisations, and a consonant skeleton that absorbs vowel loss.

// honorifics are titles and forms of address that are not part of a name,
// in Latin and as Arabic script transliterates them (qary, shykh, mwlwy).
var honorifics = toSet(`mr mrs ms miss mx dr prof professor sir dame lord lady rev reverend fr father
	sheikh shaikh shaykh sheik cheikh haji hajji hadji hajj alhaji alhaj mullah mulla molla maulana mawlana
	moulana maulvi mawlawi moulvi mufti imam ayatollah hojatoleslam hojjatoleslam hujjat qari hafiz
	general gen col colonel lt lieutenant maj major capt captain cmdr commander brig brigadier admiral
	sgt sergeant marshal president minister senator judge hon honourable honorable his her excellency
	eng engr ing mme mlle herr frau sr jr
	qary shykh hajy hajj mla mwlwy mwlvy mwlana mfty dktwr`)

// particles are short words of names (articles, "son of"; and their
// spellings transliterated from Arabic script: bn, abw, wld), which weigh
// little alone: they count in joined spellings ("bin Laden" and "Binladen") but do
// not make a name match.
var particles = toSet(`al el ul ur ud ut ad ar as at az ash an bin ibn ben bint binti bte ould wuld abu abou
	van von der den de da di del della dos das do du la le st
	bn abw bnt wld`)

// lowWeight are words that are titles as often as names (Sayyid): they
// pair like any part but weigh little.
var lowWeight = toSet(`sayed sayyid sayyed syed seyed sayid syd`)

// organization words are frequent in entity names; they keep a low weight
// through their frequency like any other part.

func toSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// spelling is a word (a part, or adjacent parts joined) with its keys.
type spelling struct {
	fold     string // folded Latin spelling
	canon    string // canonical spelling (canonical)
	unvoiced string // canonical spelling with voiced consonants unvoiced (b/p, d/t, g/k, z/s)
	vowels   string // unvoiced spelling with each run of vowels as one '*' (vowelPattern)
	skel     string // consonant skeleton (skeleton)
	arabic   bool   // from Arabic script: its vowels were not written
	alt      string // the skeleton of another reading, if any (newSpelling)
	// the letters a to z of canon and of fold, as bits: a cheap bound on
	// the edits between two words (compare)
	letters, foldLetters uint32
}

func letterSet(s string) uint32 {
	var m uint32
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			m |= 1 << (c - 'a')
		}
	}
	return m
}

// newSpelling prepares a word. altFold is the word as the other reading of
// Arabic script writes it (transliterate), or empty. A Latin word with a
// "zh" inside (Mazhar, Azhar) also has the skeleton of z and h apart, which
// is how Arabic script writes it, besides the zh of Russian and pinyin.
func newSpelling(fold, altFold string, arabic bool) spelling {
	c := canonical(fold)
	if c == fold {
		c = fold // share the bytes
	}
	u := unvoice(c)
	if u == c {
		u = c
	}
	sp := spelling{fold: fold, canon: c, unvoiced: u, vowels: vowelPattern(u), skel: skeleton(c), arabic: arabic,
		letters: letterSet(c), foldLetters: letterSet(fold)}
	if altFold == "" && !arabic {
		if i := strings.Index(fold, "zh"); i > 0 {
			altFold = fold[:i+1] + "a" + fold[i+1:]
		}
	}
	if altFold != "" && altFold != fold {
		if a := skeleton(canonical(altFold)); a != sp.skel {
			sp.alt = a
		}
	}
	return sp
}

// part is one normalized part of a name.
type part struct {
	spelling
	altFold  string // the part in the other reading of Arabic script
	particle bool
}

// folded returns s transliterated into Latin, in lower case, without
// diacritics, with every character that is not a letter or digit turned into
// a space, apostrophes removed (O'Brien, Qur'an) and "LAST, First" turned
// into "First LAST" when the name has a single comma after its first part.
func folded(s string, alt bool) (string, bool) {
	t, arabic := transliterate(s, alt)
	var b strings.Builder
	b.Grow(len(t))
	for _, r := range norm.NFKD.String(t) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		case r == '\'' || r == '’' || r == '‘' || r == '`' || r == 'ʼ' || r == 'ʻ' || r == '´' || r == 'ʿ' || r == 'ʾ':
		case r == ',':
			b.WriteRune(',')
		case unicode.Is(unicode.Mn, r):
		default:
			if sp, ok := special[unicode.ToLower(r)]; ok {
				b.WriteString(sp)
			} else if unicode.IsLetter(r) {
				b.WriteRune(unicode.ToLower(r))
			} else {
				b.WriteByte(' ')
			}
		}
	}
	out := b.String()
	if i := strings.IndexByte(out, ','); i >= 0 {
		if strings.Count(out, ",") == 1 {
			last, first := strings.TrimSpace(out[:i]), strings.TrimSpace(out[i+1:])
			if first != "" && last != "" && !isCompanySuffix(first) {
				out = first + " " + last
			} else {
				out = strings.ReplaceAll(out, ",", " ")
			}
		} else {
			out = strings.ReplaceAll(out, ",", " ")
		}
	}
	return out, arabic
}

// special folds letters that Unicode does not decompose.
var special = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'þ': "th", 'ł': "l",
	'ı': "i", 'ħ': "h", 'ŋ': "ng", 'ĸ': "k", 'ſ': "s", 'ə': "a",
}

// isCompanySuffix reports whether the words after a comma are a legal form
// ("CIMEX, S.A.", "ACME, INC.") rather than a given name.
func isCompanySuffix(s string) bool {
	switch strings.ReplaceAll(s, " ", "") {
	case "sa", "inc", "ltd", "llc", "co", "gmbh", "ag", "bv", "nv", "sarl", "srl", "spa", "plc", "sl", "ca", "cv", "sadecv", "lp", "llp", "limited", "corp", "ooo", "oao", "zao", "pjsc", "ojsc", "jsc", "cjsc", "as", "ab", "oy", "kg", "sas", "ltda", "sac", "saic", "fze", "fzco", "fzc", "fzllc", "dmcc", "pte", "ptyltd", "pty", "bhd", "sdnbhd":
		return true
	}
	return false
}

// splitParts turns a name into its parts.
func splitParts(name string) []part {
	parts := splitPartsAs(name, false)
	if strings.ContainsAny(name, "ثذضظهش") {
		alt := splitPartsAs(name, true)
		if len(alt) == len(parts) {
			for i := range parts {
				if alt[i].fold != parts[i].fold {
					parts[i].altFold = alt[i].fold
					parts[i].spelling = newSpelling(parts[i].fold, alt[i].fold, parts[i].arabic)
				}
			}
		}
	}
	return parts
}

func splitPartsAs(name string, alt bool) []part {
	f, arabic := folded(name, alt)
	words := strings.Fields(f)
	parts := make([]part, 0, len(words)+1)
	for _, w := range words {
		if honorifics[w] && len(words) > 1 {
			continue
		}
		// 'Abd al-Rahman, Abdul Rahman, Abdulrahman, Abdurrahman: "abd" and the rest.
		if rest, ok := abdPrefix(w); ok {
			parts = append(parts, newPart("abd", arabic))
			if rest != "" {
				parts = append(parts, newPart(rest, arabic))
			}
			continue
		}
		parts = append(parts, newPart(w, arabic))
	}
	if len(parts) == 0 && len(words) > 0 {
		// A name of honorifics alone stays what it is.
		for _, w := range words {
			parts = append(parts, newPart(w, arabic))
		}
	}
	return parts
}

// abdPrefix splits the Arabic "servant of" prefix: abd, abdul, abdel, abdal,
// abdol, abdu, abdur, abdus, abdulrahman (abd + rahman).
func abdPrefix(w string) (string, bool) {
	if !strings.HasPrefix(w, "abd") {
		return "", false
	}
	rest := w[3:]
	switch rest {
	case "", "ul", "el", "al", "ol", "u", "ur", "us", "ar", "er":
		return "", true
	}
	for _, p := range []string{"ul", "el", "al", "ol", "ur", "us", "un", "ar", "ir", "ad", "ud", "an"} {
		if strings.HasPrefix(rest, p) && len(rest) >= len(p)+2 {
			return rest[len(p):], true
		}
	}
	if len(rest) >= 4 && rest[0] == 'u' {
		return rest[1:], true
	}
	return "", false
}

func newPart(w string, arabic bool) part {
	alt := ""
	// The Arabic article assimilated and joined in Latin (Essabar,
	// Eddine, Azzawi are al-Sabar, al-Din, al-Zawi): the word without it
	// is another reading, which Arabic script writes apart.
	if !arabic && len(w) >= 6 && (w[0] == 'e' || w[0] == 'a') && w[1] == w[2] && strings.IndexByte("dnrstz", w[1]) >= 0 {
		alt = w[2:]
	}
	return part{spelling: newSpelling(w, alt, arabic), particle: particles[w]}
}

// vowelPattern replaces each run of vowels with '*': the spellings of one
// name that differ only in their vowels (Muhammad, Mohammed) meet, while
// names whose vowels fall elsewhere (Karl, Carol) do not.
func vowelPattern(u string) string {
	b := make([]byte, 0, len(u))
	for i := 0; i < len(u); i++ {
		switch u[i] {
		case 'a', 'e', 'i', 'o', 'u', 'y':
			if len(b) > 0 && b[len(b)-1] == '*' {
				continue
			}
			b = append(b, '*')
		default:
			b = append(b, u[i])
		}
	}
	return string(b)
}

// unvoice merges voiced consonants with their unvoiced pairs, which
// romanisations of Korean (Gim, Kim; Bak, Pak) and Chinese (Wade-Giles
// Tung, pinyin Dong) spell either way.
func unvoice(c string) string {
	b := []byte(c)
	for i, ch := range b {
		switch ch {
		case 'b':
			b[i] = 'p'
		case 'd':
			b[i] = 't'
		case 'g':
			b[i] = 'k'
		case 'z':
			b[i] = 's'
		}
	}
	return string(b)
}

// canonical rewrites a folded part so that the spellings of one name in the
// common romanisations meet: Mohammed, Muhammad and Mohamad; Qaddafi,
// Gaddafi and Kadhafi; Yevgeny and Evgeniy; Zhang and Chang; Osama and Usama;
// Hossein and Husain; Javad and Jawad. Digraphs become one letter, voiced and
// unvoiced stops of Arabic romanisation meet (q, k, g before a), vowels fold
// to a, i, u, and doubled letters become one.
func canonical(w string) string {
	b := make([]byte, 0, len(w)+2)
	n := len(w)
	at := func(i int) byte {
		if i < n {
			return w[i]
		}
		return 0
	}
	for i := 0; i < n; i++ {
		c := w[i]
		next := at(i + 1)
		switch c {
		case 'y':
			// A leading "ye" (Yevgeny, Yelena) is "e" in other romanisations.
			if i == 0 && next == 'e' {
				continue
			}
			c = 'i'
		case 'e':
			if next == 'o' || next == 'u' {
				continue // the eo and eu of Korean Revised Romanization: McCune-Reischauer's o and u
			}
			c = 'i'
		case 'i':
			c = 'i'
		case 'o', 'u':
			c = 'u'
		case 'w':
			c = 'v'
		case 'q':
			c = 'k'
		case 'c':
			switch {
			case next == 'h':
				c = 'j' // ch, the zh of pinyin, the j of Korean Revised Romanization
				i++
			case next == 'k':
				c = 'k'
				i++
			case next == 'e' || next == 'i' || next == 'y':
				c = 's'
			default:
				c = 'k'
			}
		case 'z':
			if next == 'h' {
				c = 'j'
				i++
			}
		case 'd':
			if next == 'j' || next == 'z' && at(i+2) == 'h' {
				c = 'j'
				if next == 'z' {
					i++
				}
				i++
			} else if next == 'h' {
				i++
			}
		case 'x':
			if i == 0 {
				c = 's' // Xi and the Wade-Giles Hsi
			} else {
				b = append(b, 'k')
				c = 's'
			}
		case 'p', 't', 'k', 'g':
			if next == 'h' {
				switch c {
				case 'p':
					c = 'f'
				case 'g':
					c = 'g'
				case 'k':
					c = 'h'
				}
				i++
			}
			if c == 'g' && (next == 'a' || next == 'o' || next == 'u') && i == 0 {
				c = 'k' // Gaddafi, Qaddafi, Kadhafi
			}
		case 's':
			if next == 'h' {
				i++
			} else if next == 'c' && at(i+2) == 'h' {
				i += 2
			}
		case 'h':
			if i == 0 && next == 's' && (at(i+2) == 'i' || at(i+2) == 'u') {
				continue // Wade-Giles hs is pinyin x
			}
		}
		if len(b) > 0 && b[len(b)-1] == c {
			continue
		}
		b = append(b, c)
	}
	// "ai" and "ay" read as the "ei" of other romanisations (Husain, Hussein).
	for i := 0; i+1 < len(b); i++ {
		if b[i] == 'a' && b[i+1] == 'i' {
			b = append(b[:i], b[i+1:]...)
		}
	}
	if v, ok := variants[string(b)]; ok {
		return v
	}
	return string(b)
}

// variants are the canonical spellings of given and family names whose
// forms in other languages no rule above brings together: the Turkish
// Mehmet of Muhammad, the Park of the Korean Pak (Bak).
var variants = map[string]string{
	"mihmit": "muhamad", "mihmid": "muhamad", "muhamid": "muhamad", "muhamit": "muhamad",
	"mahamad": "muhamad", "muhamadu": "muhamad", "park": "pak",
}

// skeleton is the canonical part's first letter (any vowel as "a") and its
// consonants after it, without the letters that Arabic script uses for long
// vowels (w, y): what a name written without short vowels still shows.
// Voiced and unvoiced consonants meet (b/p, d/t, g/k, z/s, v/f).
func skeleton(c string) string {
	b := make([]byte, 0, len(c))
	for i := 0; i < len(c); i++ {
		ch := c[i]
		switch ch {
		case 'a', 'e', 'i', 'o', 'u', 'y':
			if i == 0 {
				b = append(b, 'a')
			}
			continue
		case 'v', 'w':
			if i > 0 {
				continue
			}
		case 'b':
			ch = 'p'
		case 'd':
			ch = 't'
		case 'g':
			ch = 'k'
		case 'z':
			ch = 's'
		case 'j':
			ch = 'j'
		}
		if len(b) > 0 && b[len(b)-1] == ch {
			continue
		}
		b = append(b, ch)
	}
	return string(b)
}
