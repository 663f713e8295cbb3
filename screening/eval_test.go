package screening

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode"

	"github.com/kycd/kycd"
)

// The evaluation set of issue 18, point 6, drawn reproducibly from the shared
// lists: positives (listed names perturbed in each way the matcher must
// absorb, labelled by kind), negatives (ordinary names of many cultures from
// testdata/names.txt) and namesakes (listed names with a birth date decades
// from the listed one). Entries are split in two halves by a hash of their
// id: the scoring was tuned on the training half; the held-out half checks
// that it was not fitted to it. Both must meet the goals.

const evalSeed = 18

// Goals of issue 18.
const (
	goalRecall         = 0.97
	goalOrdinaryRaised = 0.005
	goalNamesakeRaised = 0.20
	goalScript         = 0.90
	goalBruteRecallGap = 0.005
)

// Perturbation kinds.
const (
	kindOrder       = "word order"
	kindMiddle      = "missing middle name"
	kindCase        = "case and diacritics"
	kindSpacing     = "spacing and hyphens"
	kindHonorific   = "honorific"
	kindTranslit    = "transliteration"
	kindTypo        = "typo"
	perKindPerSplit = 250
)

var perturbKinds = []string{kindOrder, kindMiddle, kindCase, kindSpacing, kindHonorific, kindTranslit, kindTypo}

type positive struct {
	kind   string
	query  Query
	source string
	id     string
	listed string
}

// heldOut reports which half an entry belongs to.
func heldOut(e *kycd.ListEntry) bool {
	h := fnv.New32a()
	h.Write([]byte(e.Source + "/" + e.ID))
	return h.Sum32()%2 == 1
}

// naturalWords splits a listed name into words in natural order: OFAC's
// "LAST, First Middle" becomes First Middle LAST.
func naturalWords(full string) []string {
	if strings.Count(full, ",") == 1 {
		i := strings.IndexByte(full, ',')
		last, first := strings.TrimSpace(full[:i]), strings.TrimSpace(full[i+1:])
		if first != "" && last != "" && !isCompanySuffix(strings.ToLower(strings.Trim(first, ". "))) {
			return append(strings.Fields(first), strings.Fields(last)...)
		}
	}
	return strings.Fields(strings.ReplaceAll(full, ",", " "))
}

func isWord(w string) bool {
	n := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			n++
		}
	}
	lw := strings.ToLower(strings.Trim(w, ".-'"))
	return n >= 2 && !particles[lw] && !honorifics[lw]
}

// wordsOf returns the indexes of the words that are real name words.
func wordsOf(ws []string) []int {
	var idx []int
	for i, w := range ws {
		if isWord(w) {
			idx = append(idx, i)
		}
	}
	return idx
}

var diacritics = map[rune][]rune{
	'a': []rune("áàâäãå"), 'e': []rune("éèêë"), 'i': []rune("íìîï"), 'o': []rune("óòôöõ"),
	'u': []rune("úùûü"), 'c': []rune("çč"), 'n': []rune("ñň"), 's': []rune("şšś"), 'z': []rune("žź"),
	'g': []rune("ğ"), 'y': []rune("ý"),
}

var evalTitles = []string{"Dr.", "Sheikh", "Haji", "Mullah", "Maulana", "Mr.", "Hajji", "Shaykh", "Prof.", "Mrs.", "Mawlawi", "Sayed Dr."}

// translitVariants rewrite a spelling as another romanisation would: the
// variants of issue 18's point 5, written as substitutions on a lower-case
// word (whole words first, then parts of words).
var translitWords = map[string][]string{
	"mohammed": {"muhammad", "mohamad", "mohammad", "mehmet"}, "muhammad": {"mohammed", "mohamed", "muhammed"},
	"mohammad": {"muhammad", "mohamed"}, "mohamed": {"mohammed", "muhammad"}, "abdul": {"abd al", "abdel"},
	"abd": {"abdul"}, "osama": {"usama"}, "usama": {"osama"}, "hussein": {"husain", "hossein", "husayn"},
	"hussain": {"hussein", "husain"}, "husain": {"hussein", "hossein"}, "hossein": {"hussein", "husain"},
	"hassan": {"hasan"}, "hasan": {"hassan"}, "yusuf": {"youssef", "yousef"}, "youssef": {"yusuf"},
	"ahmed": {"ahmad"}, "ahmad": {"ahmed"}, "mahmoud": {"mahmud"}, "mahmud": {"mahmoud"},
	"khalid": {"khaled"}, "khaled": {"khalid"}, "omar": {"umar"}, "umar": {"omar"}, "said": {"saeed", "sayed"},
	"saeed": {"said"}, "qaddafi": {"gaddafi", "kadhafi"}, "yevgeny": {"evgeniy", "evgenii"}, "evgeny": {"yevgeniy", "evgenii"},
	"aleksandr": {"alexander"}, "alexander": {"aleksandr"}, "javad": {"jawad"}, "jawad": {"javad"},
	"zhang": {"chang"}, "kim": {"gim"}, "park": {"pak", "bak"}, "pak": {"park"}, "jong": {"chong"},
	"kyong": {"gyeong"}, "ali": {"aly"}, "abdullah": {"abdallah"}, "abdallah": {"abdullah"},
	"yahya": {"yehia"}, "mustafa": {"mostafa"}, "mostafa": {"mustafa"}, "ibrahim": {"ebrahim"},
	"jamal": {"gamal"}, "sergei": {"sergey"}, "sergey": {"sergei"}, "yuri": {"yury", "iurii"},
}

var translitParts = [][2]string{
	{"ov", "off"}, {"ev", "eff"}, {"iy", "ii"}, {"yi", "ii"}, {"kh", "h"}, {"ou", "u"}, {"oo", "u"},
	{"ee", "i"}, {"dh", "d"}, {"q", "k"}, {"sh", "ch"}, {"j", "dj"}, {"w", "v"}, {"v", "w"}, {"y", "i"},
	{"ei", "ay"}, {"ai", "ay"}, {"u", "ou"}, {"x", "ks"}, {"ks", "x"}, {"ph", "f"}, {"ie", "i"}, {"al-", "el-"},
	{"aa", "a"}, {"ii", "i"}, {"th", "t"},
}

func keepCase(orig, repl string) string {
	if strings.ToUpper(orig) == orig {
		return strings.ToUpper(repl)
	}
	if len(orig) > 0 && unicode.IsUpper(rune(orig[0])) {
		return strings.ToUpper(repl[:1]) + repl[1:]
	}
	return repl
}

// perturb rewrites a listed name in the way kind says; ok is false when the
// name has nothing that kind could change.
func perturb(rng *rand.Rand, kind, full string, person bool) (string, bool) {
	ws := naturalWords(full)
	real := wordsOf(ws)
	if len(real) == 0 {
		return "", false
	}
	switch kind {
	case kindOrder:
		if !person || len(ws) < 2 {
			return "", false
		}
		if strings.Contains(full, ",") {
			return strings.Join(ws, " "), true // "LAST, First" listed, "First LAST" screened
		}
		last := ws[len(ws)-1]
		return last + ", " + strings.Join(ws[:len(ws)-1], " "), true
	case kindMiddle:
		if !person || len(real) < 3 {
			return "", false
		}
		mid := real[1 : len(real)-1]
		drop := mid[rng.IntN(len(mid))]
		return strings.Join(slices.Delete(slices.Clone(ws), drop, drop+1), " "), true
	case kindCase:
		out := strings.Join(ws, " ")
		if rng.IntN(2) == 0 {
			out = strings.ToLower(out)
		} else {
			out = strings.Title(strings.ToLower(out)) //nolint:staticcheck // ASCII names
		}
		rs := []rune(out)
		var at []int
		for i, r := range rs {
			if _, ok := diacritics[unicode.ToLower(r)]; ok {
				at = append(at, i)
			}
		}
		if len(at) == 0 {
			return "", false
		}
		for k := 0; k < 2 && len(at) > 0; k++ {
			j := rng.IntN(len(at))
			i := at[j]
			at = slices.Delete(at, j, j+1)
			cs := diacritics[unicode.ToLower(rs[i])]
			c := cs[rng.IntN(len(cs))]
			if unicode.IsUpper(rs[i]) {
				c = unicode.ToUpper(c)
			}
			rs[i] = c
		}
		return string(rs), true
	case kindSpacing:
		for _, i := range real {
			if strings.Contains(ws[i], "-") {
				out := slices.Clone(ws)
				if rng.IntN(2) == 0 {
					out[i] = strings.ReplaceAll(ws[i], "-", " ")
				} else {
					out[i] = strings.ReplaceAll(ws[i], "-", "")
				}
				return strings.Join(out, " "), true
			}
		}
		if len(ws) < 2 {
			return "", false
		}
		i := rng.IntN(len(ws) - 1)
		sep := ""
		if rng.IntN(2) == 0 {
			sep = "-"
		}
		out := slices.Clone(ws[:i])
		out = append(out, ws[i]+sep+ws[i+1])
		out = append(out, ws[i+2:]...)
		return strings.Join(out, " "), true
	case kindHonorific:
		if !person {
			return "", false
		}
		return evalTitles[rng.IntN(len(evalTitles))] + " " + strings.Join(ws, " "), true
	case kindTranslit:
		order := rng.Perm(len(real))
		for _, k := range order {
			i := real[k]
			lw := strings.ToLower(ws[i])
			if vs, ok := translitWords[lw]; ok {
				out := slices.Clone(ws)
				out[i] = keepCase(ws[i], vs[rng.IntN(len(vs))])
				return strings.Join(out, " "), true
			}
		}
		for _, k := range order {
			i := real[k]
			lw := strings.ToLower(ws[i])
			for _, off := range rng.Perm(len(translitParts)) {
				p := translitParts[off]
				if j := strings.Index(lw, p[0]); j >= 0 {
					nw := lw[:j] + p[1] + lw[j+len(p[0]):]
					out := slices.Clone(ws)
					out[i] = keepCase(ws[i], nw)
					return strings.Join(out, " "), true
				}
			}
		}
		return "", false
	case kindTypo:
		var long []int
		for _, i := range real {
			if len(ws[i]) >= 5 {
				long = append(long, i)
			}
		}
		if len(long) == 0 {
			return "", false
		}
		i := long[rng.IntN(len(long))]
		w := []byte(ws[i])
		upper := strings.ToUpper(ws[i]) == ws[i]
		letter := byte('a' + rng.IntN(26))
		if upper {
			letter -= 'a' - 'A'
		}
		p := 1 + rng.IntN(len(w)-1)
		switch rng.IntN(4) {
		case 0:
			w[p] = letter
		case 1:
			w = slices.Delete(w, p, p+1)
		case 2:
			w = slices.Insert(w, p, letter)
		default:
			if p+1 < len(w) {
				w[p], w[p+1] = w[p+1], w[p]
			} else {
				w[p-1], w[p] = w[p], w[p-1]
			}
		}
		out := slices.Clone(ws)
		out[i] = string(w)
		q := strings.Join(out, " ")
		return q, !strings.EqualFold(q, strings.Join(ws, " "))
	}
	return "", false
}

// latinNames returns the strong Latin-script names of an entry.
func latinNames(e *kycd.ListEntry) []string {
	var out []string
	for _, n := range e.Names {
		if n.Script == "" && !n.Weak {
			out = append(out, n.Full)
		}
	}
	return out
}

func positives(entries []kycd.ListEntry, held bool) []positive {
	rng := rand.New(rand.NewPCG(evalSeed, map[bool]uint64{false: 1, true: 2}[held]))
	var pool []int
	for i := range entries {
		e := &entries[i]
		if heldOut(e) == held && (e.Type == kycd.EntryPerson || e.Type == kycd.EntryOrganization) && len(latinNames(e)) > 0 {
			pool = append(pool, i)
		}
	}
	var out []positive
	for _, kind := range perturbKinds {
		n := 0
		for tries := 0; n < perKindPerSplit && tries < 50*perKindPerSplit; tries++ {
			e := &entries[pool[rng.IntN(len(pool))]]
			names := latinNames(e)
			full := names[rng.IntN(len(names))]
			q, ok := perturb(rng, kind, full, e.Type == kycd.EntryPerson)
			if !ok {
				continue
			}
			query := Query{Name: q}
			if rng.IntN(2) == 0 {
				query.Type = e.Type
			}
			out = append(out, positive{kind: kind, query: query, source: e.Source, id: e.ID, listed: full})
			n++
		}
	}
	return out
}

// ordinaryNames combines given and family names of testdata/names.txt.
func ordinaryNames(t testing.TB, entries []kycd.ListEntry, n int, seed uint64) []string {
	f, err := os.Open("testdata/names.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	given, family := map[string][]string{}, map[string][]string{}
	var cultures []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.SplitN(line, "|", 3)
		if len(fs) != 3 {
			t.Fatalf("names.txt: %q", line)
		}
		names := strings.Split(fs[2], ",")
		if fs[1] == "given" {
			given[fs[0]] = append(given[fs[0]], names...)
			cultures = append(cultures, fs[0])
		} else {
			family[fs[0]] = append(family[fs[0]], names...)
		}
	}
	listed := map[string]bool{}
	for i := range entries {
		for _, nm := range entries[i].Names {
			listed[sortedKey(nm.Full)] = true
		}
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		c := cultures[rng.IntN(len(cultures))]
		fc := c
		if rng.IntN(5) == 0 {
			fc = cultures[rng.IntN(len(cultures))]
		}
		g, fam := given[c], family[fc]
		name := g[rng.IntN(len(g))]
		if rng.IntN(4) == 0 {
			name += " " + g[rng.IntN(len(g))]
		}
		name += " " + fam[rng.IntN(len(fam))]
		k := sortedKey(name)
		if listed[k] || seen[k] {
			continue // a listed name is no ordinary name
		}
		seen[k] = true
		out = append(out, name)
	}
	return out
}

// sortedKey is a name's folded words in order, to recognize a listed name.
func sortedKey(name string) string {
	f, _ := folded(name, false)
	ws := strings.Fields(f)
	slices.Sort(ws)
	return strings.Join(ws, " ")
}

type namesake struct {
	query  Query
	source string
	id     string
}

func namesakes(entries []kycd.ListEntry, held bool) []namesake {
	rng := rand.New(rand.NewPCG(evalSeed, map[bool]uint64{false: 4, true: 5}[held]))
	var out []namesake
	for i := range entries {
		e := &entries[i]
		if heldOut(e) != held || e.Type != kycd.EntryPerson || len(e.BirthDates) == 0 || e.BirthDates[0].Year == 0 {
			continue
		}
		names := latinNames(e)
		if len(names) == 0 {
			continue
		}
		lo, hi := e.BirthDates[0].Year, e.BirthDates[0].Year
		for _, d := range e.BirthDates {
			lo, hi = min(lo, d.Year), max(hi, d.Year, d.ToYear)
		}
		gap := 20 + rng.IntN(21)
		year := lo - gap
		if rng.IntN(2) == 0 && hi+gap <= 2008 {
			year = hi + gap
		}
		bd := fmt.Sprintf("%04d", year)
		if rng.IntN(2) == 0 {
			bd = fmt.Sprintf("%04d-%02d-%02d", year, 1+rng.IntN(12), 1+rng.IntN(28))
		}
		out = append(out, namesake{query: Query{Name: names[0], Type: kycd.EntryPerson, BirthDate: bd}, source: e.Source, id: e.ID})
	}
	return out
}

func found(ms []Match, source, id string) bool {
	for _, m := range ms {
		if m.Source == source && m.EntryID == id && m.Review {
			return true
		}
	}
	return false
}

func anyReview(ms []Match) bool {
	for _, m := range ms {
		if m.Review {
			return true
		}
	}
	return false
}

func TestEvaluation(t *testing.T) {
	entries := realLists(t)
	x := NewIndex(entries)
	for _, held := range []bool{false, true} {
		split := map[bool]string{false: "training", true: "held-out"}[held]
		t.Run(split, func(t *testing.T) {
			// The two halves are independent: each runs on a CPU of its
			// own, and its searches on every CPU (parallelMap).
			t.Parallel()
			// Positives, per kind, through Search and through BruteForce.
			pos := positives(entries, held)
			type outcome struct{ search, brute bool }
			outs := parallelMap(len(pos), func(i int) outcome {
				o := outcome{search: found(x.Search(pos[i].query), pos[i].source, pos[i].id)}
				if i%bruteEvery == 0 {
					o.brute = found(x.BruteForce(pos[i].query), pos[i].source, pos[i].id)
				}
				return o
			})
			hit, total := map[string]int{}, map[string]int{}
			var all, allHit, bruteN, bruteHit, searchOnBrute int
			var misses []string
			for i, p := range pos {
				ok := outs[i].search
				total[p.kind]++
				all++
				if ok {
					hit[p.kind]++
					allHit++
				} else if len(misses) < 40 {
					misses = append(misses, fmt.Sprintf("%s: %q for %q", p.kind, p.query.Name, p.listed))
				}
				if i%bruteEvery == 0 {
					bruteN++
					if outs[i].brute {
						bruteHit++
					}
					if ok {
						searchOnBrute++
					}
				}
			}
			recall := float64(allHit) / float64(all)
			t.Logf("%s positives: recall %.4f (%d/%d) at threshold %.2f", split, recall, allHit, all, ReviewThreshold)
			for _, k := range perturbKinds {
				t.Logf("  %-22s %.3f (%d/%d)", k, float64(hit[k])/float64(total[k]), hit[k], total[k])
			}
			for _, m := range misses {
				t.Logf("  missed %s", m)
			}
			bruteRecall, searchRecall := float64(bruteHit)/float64(bruteN), float64(searchOnBrute)/float64(bruteN)
			t.Logf("%s on %d positives: Search recall %.4f, BruteForce recall %.4f", split, bruteN, searchRecall, bruteRecall)
			if recall < goalRecall {
				t.Errorf("recall %.4f below %.2f", recall, goalRecall)
			}
			if bruteRecall-searchRecall > goalBruteRecallGap {
				t.Errorf("Search recall %.4f is more than %.3f below BruteForce's %.4f", searchRecall, goalBruteRecallGap, bruteRecall)
			}

			// Ordinary names.
			names := ordinaryNames(t, entries, 2000, map[bool]uint64{false: 6, true: 7}[held])
			ordinary := parallelMap(len(names), func(i int) []Match { return x.Search(Query{Name: names[i], Type: kycd.EntryPerson}) })
			raised := 0
			for i, n := range names {
				if ms := ordinary[i]; anyReview(ms) {
					raised++
					if raised <= 20 {
						t.Logf("  ordinary name raised: %q ~ %q %.3f", n, ms[0].MatchedName, ms[0].Score)
					}
				}
			}
			rate := float64(raised) / float64(len(names))
			t.Logf("%s ordinary names raised: %.4f (%d/%d)", split, rate, raised, len(names))
			if rate > goalOrdinaryRaised {
				t.Errorf("%.4f of ordinary names raised, above %.3f", rate, goalOrdinaryRaised)
			}

			// Namesakes born decades apart.
			ns := namesakes(entries, held)
			same := parallelMap(len(ns), func(i int) []Match { return x.Search(ns[i].query) })
			raised = 0
			for i, n := range ns {
				if ms := same[i]; anyReview(ms) {
					raised++
					if raised <= 10 {
						t.Logf("  namesake raised: %q %s ~ %q %s: %s", n.query.Name, n.query.BirthDate, ms[0].MatchedName, strings.Join(ms[0].BirthDates, "/"), ms[0].Explanation.Text)
					}
				}
			}
			rate = float64(raised) / float64(len(ns))
			t.Logf("%s namesakes raised: %.4f (%d/%d)", split, rate, raised, len(ns))
			if rate > goalNamesakeRaised {
				t.Errorf("%.4f of namesakes raised, above %.2f", rate, goalNamesakeRaised)
			}
		})
	}
}

// parallelMap returns f(0), ..., f(n-1), computed on every CPU: the
// evaluation's searches are independent of each other (an Index is safe
// for concurrent use), and their results are read in order afterwards, so
// that the counts and the examples logged do not depend on scheduling.
func parallelMap[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				out[i] = f(i)
			}
		})
	}
	wg.Wait()
	return out
}

// TestEvaluationScripts: names in their original script (UN
// NAME_ORIGINAL_SCRIPT: Arabic, Cyrillic) find their Latin listing on an
// index without the original-script names, and the Latin names find the
// listing on an index holding only its original-script names.
func TestEvaluationScripts(t *testing.T) {
	entries := realLists(t)
	var withScript []int
	for i := range entries {
		if entries[i].Type != kycd.EntryPerson {
			// The original-script names of organizations are mostly
			// translations ("ISLAMIC STATE IN IRAQ AND THE LEVANT"), which
			// no transliteration finds.
			continue
		}
		for _, n := range entries[i].Names {
			if n.Script != "" {
				withScript = append(withScript, i)
				break
			}
		}
	}
	if len(withScript) < 100 {
		t.Fatalf("only %d listings with an original-script name", len(withScript))
	}
	latinOnly := slices.Clone(entries)
	scriptOnly := slices.Clone(entries)
	for _, i := range withScript {
		var l, s []kycd.ListName
		for _, n := range entries[i].Names {
			if n.Script == "" {
				l = append(l, n)
			} else {
				s = append(s, n)
			}
		}
		latinOnly[i].Names, scriptOnly[i].Names = l, s
	}
	toLatin, fromLatin := NewIndex(latinOnly), NewIndex(scriptOnly)
	perScript := map[string][2]int{}
	var toHit, fromHit, toN, fromN int
	for _, i := range withScript {
		e := &entries[i]
		for _, n := range e.Names {
			if n.Script == "" {
				continue
			}
			ms := toLatin.Search(Query{Name: n.Full})
			ok := found(ms, e.Source, e.ID)
			c := perScript[n.Script]
			c[1]++
			toN++
			if ok {
				c[0]++
				toHit++
			} else {
				t.Logf("  not found from script: %q (%s): %s", n.Full, e.Names[0].Full, explainFor(ms, e))
			}
			perScript[n.Script] = c
		}
		if l := latinNames(&latinOnly[i]); len(l) > 0 {
			fromN++
			ms := fromLatin.Search(Query{Name: l[0]})
			if found(ms, e.Source, e.ID) {
				fromHit++
			} else {
				t.Logf("  not found from Latin: %q: %s", l[0], explainFor(ms, e))
			}
		}
	}
	for s, c := range perScript {
		t.Logf("original script %s -> Latin listing: %d/%d", s, c[0], c[1])
	}
	to, from := float64(toHit)/float64(toN), float64(fromHit)/float64(fromN)
	t.Logf("original script -> Latin: %.3f (%d/%d); Latin -> original script: %.3f (%d/%d)", to, toHit, toN, from, fromHit, fromN)
	if to < goalScript || from < goalScript {
		t.Errorf("original-script matching below %.2f", goalScript)
	}
}

// explainFor returns the explanation of the entry's match, if any.
func explainFor(ms []Match, e *kycd.ListEntry) string {
	for _, m := range ms {
		if m.Source == e.Source && m.EntryID == e.ID {
			return m.Explanation.Text
		}
	}
	return "no match"
}
