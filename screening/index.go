// Package screening matches names against sanctions lists: it normalizes and
// transliterates names, finds candidates through an inverted index of their
// parts' keys, scores each candidate part by part, qualifies the score with
// birth dates, nationality and type, and explains each match.
//
// An Index is built once from the listed entries and is then read-only: any
// number of goroutines may Search it at the same time.
package screening

import (
	"hash/maphash"
	"runtime"
	"slices"
	"sort"

	"github.com/kycd/kycd"
)

// ReviewThreshold is the score from which a match needs a reviewer: a match
// at or above it would open a case. Chosen on the training half of the
// evaluation set (eval_test.go) so that perturbed listed names reach it
// (recall at least 0.97) while ordinary names of many cultures (at most
// 0.5 %) and listed names with a birth date decades apart (at most 20 %) do
// not; the held-out half confirms it.
const ReviewThreshold = 0.84

// MinScore is the lowest score Search returns: below it a listing shares too
// little with the query to be worth showing.
const MinScore = 0.60

// DefaultLimit is the number of matches Search returns when the query sets
// no limit.
const DefaultLimit = 10

// minHitFraction is the share of the query's weight that a listed name's
// keys must meet for the name to be scored at all. A name that meets less
// seldom reaches the review threshold: on the evaluation set Search finds
// all but 0.1 % of what BruteForce raises, at a ninetieth of its cost.
const minHitFraction = 0.5

// Query is what a name is screened with.
type Query struct {
	Name string `json:"name"`
	// Type is "person", "organization" or empty (either).
	Type string `json:"type,omitempty"`
	// BirthDate is "YYYY", "YYYY-MM" or "YYYY-MM-DD", or empty.
	BirthDate string `json:"birthDate,omitempty"`
	// Nationality is an ISO 3166-1 alpha-2 code, or empty.
	Nationality string `json:"nationality,omitempty"`
	// Limit caps the matches returned; 0 means DefaultLimit.
	Limit int `json:"limit,omitempty"`
}

// Match is one listing that resembles the query.
type Match = kycd.ScreeningMatch

// Index holds listed entries prepared for search.
type Index struct {
	entries []kycd.ListEntry
	names   []listedName
	// postings: key hash -> names holding the key (CSR layout)
	keys     map[uint64]uint32
	offsets  []uint32
	postings []uint32
	// df counts the listed names holding each canonical part; weights
	// derive from it, so a Subset scores as its parent does.
	df     map[string]int32
	nNames int
	seed   maphash.Seed
	// scratches keeps searches' working memory for reuse, up to one per
	// CPU: concurrent searches find one ready. A sync.Pool would drop them
	// at collections, and under the race detector a quarter of its puts,
	// each a fresh allocation of the size of the lists. One is at most 16
	// bytes an entry and 12 a name: under 0.5 MiB for the real lists'
	// 10,000 entries and 27,000 names, whose index takes 64 MiB
	// (TestIndexMemory). A search that panics does not put its back.
	scratches chan *scratch
}

type listedName struct {
	entry int32
	name  int32 // index in the entry's Names
	weak  bool
	form  form
}

// scratch is one search's working memory, reused (getScratch, putScratch).
type scratch struct {
	masks   []uint64 // per name: the query parts whose keys it holds
	touched []uint32
	best    []float64 // per entry: best name score
	bestAt  []int32   // per entry: the name with it
	entries []int32
	pairs   []pair
	keys    []uint64
	masksQ  []uint64
}

// NewIndex prepares entries for search. The index keeps the entries (not a
// copy): they must not change afterwards.
func NewIndex(entries []kycd.ListEntry) *Index {
	return build(entries, nil)
}

// Subset returns an index of the entries of source whose ID is among ids,
// scored with this index's part weights so that a match scores as it would
// in the whole index: the re-screen of every user against the entries an
// import added or changed. Building it costs time in proportion to the
// subset only.
func (x *Index) Subset(source string, ids []string) *Index {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var sub []kycd.ListEntry
	for _, e := range x.entries {
		if e.Source == source && want[e.ID] {
			sub = append(sub, e)
		}
	}
	return build(sub, x)
}

// Len returns the number of entries and of names indexed.
func (x *Index) Len() (entries, names int) { return len(x.entries), len(x.names) }

func build(entries []kycd.ListEntry, parent *Index) *Index {
	x := &Index{entries: entries, seed: maphash.MakeSeed()}
	var parts [][]part
	for ei := range entries {
		e := &entries[ei]
		for ni, n := range e.Names {
			p := splitParts(n.Full)
			if len(p) == 0 || len(p) > 60 {
				continue
			}
			parts = append(parts, p)
			x.names = append(x.names, listedName{entry: int32(ei), name: int32(ni), weak: n.Weak})
		}
	}
	if parent != nil {
		x.df, x.nNames = parent.df, parent.nNames
	} else {
		x.df = make(map[string]int32)
		seen := map[string]bool{}
		for _, ps := range parts {
			clear(seen)
			for _, p := range ps {
				if !seen[p.canon] {
					seen[p.canon] = true
					x.df[p.canon]++
				}
			}
		}
		x.nNames = len(parts)
	}
	type kv struct {
		key  uint64
		name uint32
	}
	pairs := make([]kv, 0, 32*len(parts))
	var buf []uint64
	for i, ps := range parts {
		x.names[i].form = formOf(ps, x.weightOf)
		buf = x.formKeys(&x.names[i].form, buf[:0], nil)
		slices.Sort(buf)
		for j, k := range buf {
			if j == 0 || k != buf[j-1] {
				pairs = append(pairs, kv{k, uint32(i)})
			}
		}
	}
	slices.SortFunc(pairs, func(a, b kv) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		return int(a.name) - int(b.name)
	})
	x.keys = make(map[uint64]uint32)
	for i, p := range pairs {
		if i > 0 && p == pairs[i-1] {
			continue
		}
		if i == 0 || p.key != pairs[i-1].key {
			x.keys[p.key] = uint32(len(x.offsets))
			x.offsets = append(x.offsets, uint32(len(x.postings)))
		}
		x.postings = append(x.postings, p.name)
	}
	x.offsets = append(x.offsets, uint32(len(x.postings)))
	x.scratches = make(chan *scratch, runtime.GOMAXPROCS(0))
	return x
}

// getScratch returns working memory for one search: a kept one, or new.
func (x *Index) getScratch() *scratch {
	select {
	case sc := <-x.scratches:
		return sc
	default:
		return &scratch{
			masks:  make([]uint64, len(x.names)),
			best:   make([]float64, len(x.entries)),
			bestAt: make([]int32, len(x.entries)),
		}
	}
}

// putScratch keeps sc for another search, unless enough are kept.
func (x *Index) putScratch(sc *scratch) {
	select {
	case x.scratches <- sc:
	default:
	}
}

func (x *Index) weightOf(canon string) float64 {
	return rarity(int(x.df[canon]), x.nNames)
}

// Key kinds: a canonical spelling (or one of its one-letter deletions, which
// meet a one-edit typo) and a consonant skeleton (of two letters: apart, by
// script).
const (
	keySpelling    = 'd'
	keySkeleton    = 's'
	keyShortArabic = 'a' // a skeleton of two letters of a part read from Arabic script
	keyShortLatin  = 'l' // a skeleton of two letters of a Latin part
)

func (x *Index) key(kind byte, s string) uint64 {
	var h maphash.Hash
	h.SetSeed(x.seed)
	h.WriteByte(kind)
	h.WriteString(s)
	return h.Sum64()
}

// formKeys appends the keys of a form's parts and runs. When masks is not
// nil it receives, for each key, the parts of the form the key stands for.
func (x *Index) formKeys(f *form, keys []uint64, masks *[]uint64) []uint64 {
	add := func(k uint64, m uint64) {
		keys = append(keys, k)
		if masks != nil {
			*masks = append(*masks, m)
		}
	}
	var del [64]byte
	for i := range f.parts {
		p := &f.parts[i]
		if p.particle {
			continue
		}
		m := uint64(1) << uint(i)
		add(x.key(keySpelling, p.canon), m)
		switch {
		case len(p.skel) >= 3:
			add(x.key(keySkeleton, p.skel), m)
		case len(p.skel) == 2:
			// A skeleton of two letters is shared by too many names to
			// bring Latin names together, but it is all a short part read
			// from Arabic script has: such keys join Arabic script and
			// Latin, never Latin and Latin.
			query := masks != nil
			switch {
			case p.arabic && query:
				add(x.key(keyShortArabic, p.skel), m)
				add(x.key(keyShortLatin, p.skel), m)
			case p.arabic:
				add(x.key(keyShortArabic, p.skel), m)
			case query:
				add(x.key(keyShortArabic, p.skel), m)
			default:
				add(x.key(keyShortLatin, p.skel), m)
			}
		}
		if p.alt != "" {
			add(x.key(keySkeleton, p.alt), m)
		}
		if c := p.canon; len(c) >= 4 && len(c) <= 60 {
			for j := 0; j < len(c); j++ {
				if j > 0 && c[j] == c[j-1] {
					continue
				}
				d := append(append(del[:0], c[:j]...), c[j+1:]...)
				add(x.key(keySpelling, string(d)), m)
			}
		}
	}
	for r := range f.runs {
		run := &f.runs[r]
		m := partsMask(f, r, true)
		add(x.key(keySpelling, run.canon), m)
		if run.skelKey && len(run.skel) >= 3 {
			add(x.key(keySkeleton, run.skel), m)
		}
		if run.alt != "" && len(run.alt) > 2 {
			add(x.key(keySkeleton, run.alt), m)
		}
	}
	return keys
}

// Search returns the listings that resemble the query, best first.
func (x *Index) Search(q Query) []Match {
	qf := newForm(q.Name, x.weightOf)
	if qf.total == 0 || len(qf.parts) > 60 {
		return nil
	}
	sc := x.getScratch() // put back on return, not after a panic: its masks may be dirty
	sc.keys, sc.masksQ = sc.keys[:0], sc.masksQ[:0]
	sc.keys = x.formKeys(&qf, sc.keys, &sc.masksQ)
	sc.touched = sc.touched[:0]
	for i, k := range sc.keys {
		at, ok := x.keys[k]
		if !ok {
			continue
		}
		m := sc.masksQ[i]
		for _, n := range x.postings[x.offsets[at]:x.offsets[at+1]] {
			if sc.masks[n] == 0 {
				sc.touched = append(sc.touched, n)
			}
			sc.masks[n] |= m
		}
	}
	sc.entries = sc.entries[:0]
	need := minHitFraction * qf.total
	for _, n := range sc.touched {
		m := sc.masks[n]
		sc.masks[n] = 0
		if maskWeight(&qf, m) < need {
			continue
		}
		x.scoreName(&qf, int(n), sc)
	}
	ms := x.finish(q, &qf, sc)
	x.putScratch(sc)
	return ms
}

// BruteForce scores the query against every listed name of the index, with
// the same scoring as Search but without its candidate generation: the
// baseline Search is measured and checked against.
func (x *Index) BruteForce(q Query) []Match {
	qf := newForm(q.Name, x.weightOf)
	if qf.total == 0 || len(qf.parts) > 60 {
		return nil
	}
	sc := x.getScratch()
	sc.entries = sc.entries[:0]
	for n := range x.names {
		x.scoreName(&qf, n, sc)
	}
	ms := x.finish(q, &qf, sc)
	x.putScratch(sc)
	return ms
}

// BruteForce compares the query with every name of entries.
func BruteForce(entries []kycd.ListEntry, q Query) []Match {
	return NewIndex(entries).BruteForce(q)
}

// scoreName scores one listed name and keeps it if it is its entry's best.
func (x *Index) scoreName(qf *form, n int, sc *scratch) {
	ln := &x.names[n]
	a := align(qf, &ln.form, &sc.pairs, false)
	s := a.score
	if ln.weak {
		s *= weakAliasFactor
	}
	if s < MinScore-maxBonus {
		return
	}
	e := ln.entry
	if sc.best[e] == 0 {
		sc.entries = append(sc.entries, e)
	}
	if s > sc.best[e] {
		sc.best[e] = s
		sc.bestAt[e] = int32(n)
	}
}

// finish qualifies the best name of each entry, sorts and explains.
func (x *Index) finish(q Query, qf *form, sc *scratch) []Match {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	bd := parseQueryDate(q.BirthDate)
	type cand struct {
		entry, name int32
		score       float64
	}
	var cands []cand
	for _, e := range sc.entries {
		s := sc.best[e]
		n := sc.bestAt[e]
		sc.best[e] = 0
		quals := qualify(q, bd, &x.entries[e], nil)
		if f := s + quals; f >= MinScore {
			cands = append(cands, cand{e, n, min(f, 1)})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score > cands[j].score
		}
		return cands[i].entry < cands[j].entry
	})
	if len(cands) > limit {
		cands = cands[:limit]
	}
	out := make([]Match, 0, len(cands))
	for _, c := range cands {
		ln := &x.names[c.name]
		e := &x.entries[c.entry]
		m := Match{
			EntryID:       e.ID,
			Source:        e.Source,
			MatchedName:   e.Names[ln.name].Full,
			Score:         round3(c.score),
			Type:          e.Type,
			Nationalities: e.Nationalities,
			Programmes:    e.Programmes,
		}
		if len(e.Names) > 0 {
			m.ListedName = e.Names[0].Full
		}
		m.Review = m.Score >= ReviewThreshold
		for _, d := range e.BirthDates {
			m.BirthDates = append(m.BirthDates, formatListDate(d))
		}
		m.Explanation = x.explain(q, bd, qf, ln, e, m.Score)
		out = append(out, m)
	}
	return out
}
