package screening

import (
	"math"
	"math/bits"
	"slices"
	"strings"
)

// Name scoring, in the manner of OpenSanctions' logic-v2: the query's parts
// are paired with the listed name's parts (or with two or three adjacent
// parts written as one word: "Kimjongun", "Abdulrahman"), each pair is
// scored, and parts left without a partner lower the score by their weight.
// A part's weight falls with how many listed names share it, so "Mohammed"
// or "Ali" matching alone does not make a match, while a rare family name
// weighs fully.

// Pair kinds, as the explanation names them.
const (
	pairExact           = "exact"
	pairTransliteration = "transliteration"
	pairPhonetic        = "phonetic"
	pairTypo            = "typo"
	pairSimilar         = "similar"
	pairJoined          = "joined"
)

// Scoring constants. The penalties say how much a part without a partner
// costs, relative to its weight: a query part the listing lacks costs fully
// (the user has a name the listed person does not), a listed middle name the
// query lacks costs little (people omit middle names), the listed name's
// first and last parts cost more.
const (
	minPairScore          = 0.72 // a pair below this is no pair
	mismatchFactor        = 2.0  // how much a pair's shortfall from 1 costs the name
	unmatchedQueryCost    = 1.0
	unmatchedAnchorCost   = 0.75
	unmatchedMiddleCost   = 0.25
	omittedMiddleCost     = 0.12
	omittedMiddleEvidence = 1.7
	particleWeight        = 0.12
	weakAliasFactor       = 0.95
)

// form is a name prepared for scoring: its parts, their weights, which
// parts are anchors (first and last), and the runs of adjacent parts that
// may be written as one word.
type form struct {
	parts  []part
	weight []float64
	anchor []bool
	runs   []run
	total  float64 // sum of weights of the parts that are not particles
	// the shortest run and the longest part, in canonical and skeleton
	// letters: most words are too short for any run, or any run too long
	// for every part, and align then skips them
	minRun, minRunSkel, maxPart, maxPartSkel int
}

// run is two or three adjacent parts (cyclically: "KIM, Jong Un" read as
// "Jong Un Kim" also joins "Kim" and "Jong") written as one word.
type run struct {
	first, n int32
	// skelKey: the run's skeleton is longer than each of its parts' and
	// worth a key (Mohammad Hayat's joined skeleton is Mohammad's)
	skelKey bool
	spelling
}

func newForm(name string, weightOf func(canon string) float64) form {
	return formOf(splitParts(name), weightOf)
}

func formOf(parts []part, weightOf func(string) float64) form {
	f := form{parts: parts, weight: make([]float64, len(parts)), anchor: make([]bool, len(parts))}
	firstReal, lastReal := -1, -1
	for i, p := range parts {
		if p.particle {
			f.weight[i] = particleWeight
			continue
		}
		f.weight[i] = weightOf(p.canon) * lengthFactor(len(p.canon))
		if lowWeight[p.fold] {
			f.weight[i] = min(f.weight[i], 0.3)
		}
		f.total += f.weight[i]
		if firstReal < 0 {
			firstReal = i
		}
		lastReal = i
	}
	if firstReal >= 0 {
		f.anchor[firstReal], f.anchor[lastReal] = true, true
	}
	n := len(parts)
	if n >= 2 {
		for size := 2; size <= 3 && size <= n; size++ {
			for s := 0; s < n; s++ {
				// Three parts join when they are the whole name (Kim Jong
				// Un, Kimjongun) or a compound around a particle (Nasir
				// al-Din, Nasiruddin); more would cost memory for little.
				if size == 3 && n > 3 && !parts[(s+1)%n].particle {
					continue
				}
				fold, bare, altFold, altBare := "", "", "", ""
				longest := 0
				for k := 0; k < size; k++ {
					p := &parts[(s+k)%n]
					a := p.fold
					if p.altFold != "" {
						a = p.altFold
					}
					fold += p.fold
					altFold += a
					if !p.particle || k == 0 || k == size-1 {
						bare += p.fold
						altBare += a
						longest = max(longest, len(p.skel))
					}
				}
				for _, v := range [][2]string{{fold, altFold}, {bare, altBare}} {
					if v[0] == bare && bare != fold && v[1] == altBare && len(f.runs) > 0 && f.runs[len(f.runs)-1].fold == bare {
						continue
					}
					sp := newSpelling(v[0], v[1], parts[s].arabic)
					// A run of Arabic script whose skeleton is no longer
					// than its longest part's says nothing more than that
					// part (the skeleton drops w and y).
					if sp.arabic && len(sp.skel) <= longest {
						continue
					}
					f.runs = append(f.runs, run{first: int32(s), n: int32(size), skelKey: len(sp.skel) > longest, spelling: sp})
					if bare == fold {
						break // Nasir al-Din written Nasiruddin: the article assimilates; else one run
					}
				}
			}
		}
	}
	f.minRun, f.minRunSkel = math.MaxInt, math.MaxInt
	for i := range f.runs {
		f.minRun = min(f.minRun, len(f.runs[i].canon))
		f.minRunSkel = min(f.minRunSkel, len(f.runs[i].skel))
	}
	for i := range parts {
		f.maxPart = max(f.maxPart, len(parts[i].canon))
		f.maxPartSkel = max(f.maxPartSkel, len(parts[i].skel))
	}
	return f
}

// mayJoin tells whether a word of canonical length n (skeleton length
// sk) may meet a run of f (joinable's bound).
func (f *form) mayJoin(n, sk int) bool {
	return n+2 >= f.minRun || sk+1 >= f.minRunSkel
}

// compareSpellings compares two words: the same folded spelling (exact),
// canonical spelling, unvoiced spelling or vowel pattern
// (transliteration), the same consonant skeleton when one side was written
// in Arabic script (phonetic), one edit (typo), or the share of letters
// needing no edit (similar), raised a little when the consonant skeletons
// agree.
func compareSpellings(a, b *spelling) (float64, string) {
	return compare(a, b, false)
}

// compare is compareSpellings; strict leaves out the similarity of
// spellings no rule explains (what joined words need).
func compare(a, b *spelling, strict bool) (float64, string) {
	if a.fold == b.fold {
		return 1, pairExact
	}
	if a.canon == b.canon {
		return 0.95, pairTransliteration
	}
	if a.unvoiced == b.unvoiced {
		return 0.92, pairTransliteration
	}
	la, lb := len(a.canon), len(b.canon)
	if la > 2*lb+2 || lb > 2*la+2 {
		return 0, ""
	}
	if consonants(a.vowels) >= 4 && a.vowels == b.vowels {
		return 0.9, pairTransliteration
	}
	if (a.arabic || b.arabic) && (a.skel == b.skel || a.alt != "" && (a.alt == b.skel || a.alt == b.alt) || b.alt != "" && b.alt == a.skel) {
		// Arabic script writes no short vowels: the skeleton is all it
		// says. A skeleton of one letter (Zia) says little.
		if len(a.skel) >= 2 {
			return 0.96, pairPhonetic
		}
		if la <= 4 && lb <= 4 {
			return 0.9, pairPhonetic
		}
	}
	if (a.arabic || b.arabic) && min(len(a.skel), len(b.skel)) >= 4 && withinOneEdit(a.skel, b.skel) {
		return 0.88, pairPhonetic
	}
	var s float64
	kind := pairSimilar
	// Every letter one word has and the other lacks takes an edit, and so
	// does every letter of difference in length: the edit similarity is at
	// most 1 less that over the longer length. Skip it when that cannot
	// make a pair, and the typo checks when it takes two edits or more.
	edits := max(absDiff(la, lb), bits.OnesCount32(a.letters&^b.letters), bits.OnesCount32(b.letters&^a.letters))
	if !strict && 1-float64(edits)/float64(max(la, lb)) >= minPairScore {
		s = editSimilarity(a.canon, b.canon)
		if la <= 3 || lb <= 3 {
			s *= 0.85
		}
	}
	if len(a.skel) >= 3 && a.skel == b.skel && s < 0.8 {
		s, kind = 0.8, pairPhonetic
	}
	if edits <= 1 {
		if t := typoScore(a.canon, b.canon); t > s {
			s, kind = t, pairTypo
		}
	}
	if bits.OnesCount32(a.foldLetters&^b.foldLetters) <= 1 && bits.OnesCount32(b.foldLetters&^a.foldLetters) <= 1 {
		if t := typoScore(a.fold, b.fold); t > s {
			s, kind = t, pairTypo
		}
	}
	return s, kind
}

// typoScore scores two spellings one edit apart: the longer the word, the
// likelier one edit is a typo rather than another name. A different first
// letter counts a little more.
func typoScore(a, b string) float64 {
	n := min(len(a), len(b))
	if n < 4 || !withinOneEdit(a, b) {
		return 0
	}
	var s float64
	switch {
	case n >= 8:
		s = 0.93
	case n >= 6:
		s = 0.91
	case n == 5:
		s = 0.88
	case len(a) != len(b):
		s = 0.84 // a letter left out of a word of five (Goran, Gora)
	default:
		s = 0.76
	}
	if a[0] != b[0] {
		s -= 0.04
	}
	return s
}

// pair is one pairing of the alignment.
type pair struct {
	q, l       int // index of the part, or of the run when qRun/lRun
	qRun, lRun bool
	score      float64
	kind       string
}

// alignment is the result of comparing a query form with a listed form.
type alignment struct {
	score float64
	pairs []pair
	// unmatched parts of each side
	qUnmatched, lUnmatched []int
}

// align pairs the parts of q and l greedily, best pairs first, and scores
// the name. Its candidate pairs go to *scratch, kept (grown) for the next
// comparison so that comparisons do not allocate; nil allocates.
func align(q, l *form, scratch *[]pair, detail bool) alignment {
	var cands []pair
	if scratch != nil {
		cands = (*scratch)[:0]
	}
	// the best single pair of each part: a part paired alike or
	// transliterated needs no joined reading
	var qBest, lBest [64]float64
	for i := range q.parts {
		for j := range l.parts {
			if q.parts[i].particle != l.parts[j].particle {
				continue // a particle pairs only with a particle
			}
			s, k := compareSpellings(&q.parts[i].spelling, &l.parts[j].spelling)
			if s >= minPairScore {
				cands = append(cands, pair{q: i, l: j, score: s, kind: k})
				qBest[i], lBest[j] = max(qBest[i], s), max(lBest[j], s)
			}
		}
	}
	// A query part against a run of the listing, and a run of the query
	// against a listed part.
	for i := range q.parts {
		qp := &q.parts[i]
		if qp.particle || len(qp.canon) < 4 || qBest[i] >= 0.95 || !l.mayJoin(len(qp.canon), len(qp.skel)) {
			continue
		}
		for r := range l.runs {
			lr := &l.runs[r]
			if !joinable(&qp.spelling, &lr.spelling) {
				continue
			}
			s, k := compare(&qp.spelling, &lr.spelling, true)
			if s >= 0.9 && k != pairSimilar && (k != pairPhonetic || qp.arabic || lr.arabic) {
				cands = append(cands, pair{q: i, l: r, lRun: true, score: s, kind: pairJoined})
			}
		}
	}
	for r := range q.runs {
		qr := &q.runs[r]
		if len(qr.canon) > l.maxPart+2 && len(qr.skel) > l.maxPartSkel+1 {
			continue
		}
		for j := range l.parts {
			lp := &l.parts[j]
			if lp.particle || len(lp.canon) < 4 || lBest[j] >= 0.95 || !joinable(&qr.spelling, &lp.spelling) {
				continue
			}
			s, k := compare(&qr.spelling, &lp.spelling, true)
			if s >= 0.9 && k != pairSimilar && (k != pairPhonetic || qr.arabic || lp.arabic) {
				cands = append(cands, pair{q: r, qRun: true, l: j, score: s, kind: pairJoined})
			}
		}
	}
	slices.SortStableFunc(cands, func(a, b pair) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		// at equal scores, a run (covering more) first, then a listed anchor
		ra, rb := a.qRun || a.lRun, b.qRun || b.lRun
		if ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		aa := !a.lRun && l.anchor[a.l]
		ab := !b.lRun && l.anchor[b.l]
		if aa && !ab {
			return -1
		}
		if ab && !aa {
			return 1
		}
		return 0
	})
	var qUsed, lUsed uint64
	var num, den, matchedReal float64
	strong := true // every pair spelled alike or transliterated
	var res alignment
	for _, c := range cands {
		qm := partsMask(q, c.q, c.qRun)
		lm := partsMask(l, c.l, c.lRun)
		if qm&qUsed != 0 || lm&lUsed != 0 {
			continue
		}
		qUsed |= qm
		lUsed |= lm
		if c.score < 0.92 || c.kind == pairPhonetic {
			strong = false
		}
		qw, lw := maskWeight(q, qm), maskWeight(l, lm)
		w := (qw + lw) / 2
		num += w * (1 - mismatchFactor*(1-c.score))
		den += w
		if !allParticles(q, qm) {
			matchedReal += w
		}
		if detail {
			res.pairs = append(res.pairs, c)
		}
	}
	if scratch != nil {
		*scratch = cands[:0]
	}
	for i := range q.parts {
		if qUsed&(1<<uint(i)) == 0 {
			den += q.weight[i] * unmatchedQueryCost
			if detail {
				res.qUnmatched = append(res.qUnmatched, i)
			}
		}
	}
	// When every part of the query found its partner and the listed name's
	// first and last parts are among them, the parts left are middle names
	// (patronymics, "Abu Minyar"), which people leave out: they cost less.
	// So much is said only by a query whose parts are rare enough together
	// (Muammar Gaddafi, not Juan Moreno).
	middleCost := unmatchedMiddleCost
	if qUsed == uint64(1)<<uint(len(q.parts))-1 && q.total >= omittedMiddleEvidence && strong {
		anchors := true
		for j := range l.parts {
			if l.anchor[j] && lUsed&(1<<uint(j)) == 0 {
				anchors = false
			}
		}
		if anchors {
			middleCost = omittedMiddleCost
		}
	}
	for j := range l.parts {
		if lUsed&(1<<uint(j)) == 0 {
			cost := middleCost
			if l.anchor[j] {
				cost = unmatchedAnchorCost
			} else if isPatronymic(l, j) {
				cost /= 2
			}
			den += l.weight[j] * cost
			if detail {
				res.lUnmatched = append(res.lUnmatched, j)
			}
		}
	}
	if matchedReal == 0 || den == 0 {
		res.score = 0
		return res
	}
	res.score = num / den
	return res
}

// joinable tells whether a word and a run of words are worth comparing:
// the same first letter (skeleton) and lengths within two letters (of the
// skeletons, when one side was written in Arabic script).
func joinable(a, b *spelling) bool {
	if a.skel == "" || b.skel == "" || a.skel[0] != b.skel[0] {
		return false
	}
	if a.arabic || b.arabic {
		return absDiff(len(a.skel), len(b.skel)) <= 1
	}
	return absDiff(len(a.canon), len(b.canon)) <= 2
}

func partsMask(f *form, i int, isRun bool) uint64 {
	if !isRun {
		return 1 << uint(i)
	}
	r := f.runs[i]
	var m uint64
	for k := 0; k < int(r.n); k++ {
		m |= 1 << uint((int(r.first)+k)%len(f.parts))
	}
	return m
}

func maskWeight(f *form, m uint64) float64 {
	var w float64
	for i := range f.parts {
		if m&(1<<uint(i)) != 0 {
			w += f.weight[i]
		}
	}
	return w
}

func allParticles(f *form, m uint64) bool {
	for i := range f.parts {
		if m&(1<<uint(i)) != 0 && !f.parts[i].particle {
			return false
		}
	}
	return true
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}

// jaroWinkler is the Jaro-Winkler similarity of two ASCII strings.
func jaroWinkler(a, b string) float64 {
	if a == b {
		return 1
	}
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	if la > 64 || lb > 64 {
		a, b = a[:min(la, 64)], b[:min(lb, 64)]
		la, lb = len(a), len(b)
	}
	window := max(la, lb)/2 - 1
	if window < 0 {
		window = 0
	}
	var aMatch, bMatch uint64
	m := 0
	for i := 0; i < la; i++ {
		lo, hi := max(0, i-window), min(lb-1, i+window)
		for j := lo; j <= hi; j++ {
			if bMatch&(1<<uint(j)) == 0 && a[i] == b[j] {
				aMatch |= 1 << uint(i)
				bMatch |= 1 << uint(j)
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	t, j := 0, 0
	for i := 0; i < la; i++ {
		if aMatch&(1<<uint(i)) == 0 {
			continue
		}
		for bMatch&(1<<uint(j)) == 0 {
			j++
		}
		if a[i] != b[j] {
			t++
		}
		j++
	}
	mf := float64(m)
	jaro := (mf/float64(la) + mf/float64(lb) + (mf-float64(t)/2)/mf) / 3
	prefix := 0
	for prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

// withinOneEdit reports whether a and b differ by at most one insertion,
// deletion, substitution or transposition of adjacent letters.
func withinOneEdit(a, b string) bool {
	la, lb := len(a), len(b)
	if absDiff(la, lb) > 1 {
		return false
	}
	i := 0
	for i < la && i < lb && a[i] == b[i] {
		i++
	}
	if i == la && i == lb {
		return true
	}
	switch {
	case la == lb:
		if a[i+1:] == b[i+1:] {
			return true // substitution
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case la > lb:
		return a[i+1:] == b[i:]
	default:
		return a[i:] == b[i+1:]
	}
}

// rarity turns the number of listed names holding a part into its weight:
// 1 for a part few names share, down to about 0.35 for the most frequent.
func rarity(df, names int) float64 {
	if df <= 2 || names < 50 {
		return 1
	}
	r := math.Log(float64(names)/float64(df)) / math.Log(float64(names)/3)
	if r > 1 {
		r = 1
	}
	if r < 0 {
		r = 0
	}
	return 0.35 + 0.65*r
}

// lengthFactor lowers the weight of very short parts (initials, one- and
// two-letter words), which say little about who is named.
func lengthFactor(n int) float64 {
	switch n {
	case 1:
		return 0.25
	case 2:
		return 0.6
	}
	return 1
}

// editSimilarity is 1 less the optimal string alignment distance (edits,
// adjacent transpositions included) over the longer length.
func editSimilarity(a, b string) float64 {
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	if la > 63 || lb > 63 {
		return jaroWinkler(a, b)
	}
	var rows [3][64]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= lb; j++ {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return 1 - float64(prev[lb])/float64(max(la, lb))
}

// consonants counts the letters of a vowel pattern that are not vowels.
func consonants(v string) int {
	return len(v) - strings.Count(v, "*")
}

// sonOf are the particles before a father's name (bin Muhammad, ould Ali).
var sonOf = toSet(`bin ibn ben bn bint binti ould wld`)

// isPatronymic tells whether a part is a father's name: after "bin",
// "ould", ..., or Russian -ovich, -evna.
func isPatronymic(f *form, j int) bool {
	if j > 0 && sonOf[f.parts[j-1].fold] {
		return true
	}
	w := f.parts[j].fold
	for _, suffix := range []string{"ovich", "evich", "ovna", "evna", "yevich", "ievich"} {
		if strings.HasSuffix(w, suffix) && len(w) > len(suffix)+2 {
			return true
		}
	}
	return false
}
