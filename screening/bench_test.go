package screening

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// benchQueries are the same queries for Search and BruteForce: positives,
// ordinary names and namesakes of the evaluation set, in a fixed order.
func benchQueries(b *testing.B) (*Index, []Query) {
	b.Helper()
	entries := realLists(b)
	x := NewIndex(entries)
	var qs []Query
	pos := positives(entries, true)
	names := ordinaryNames(b, entries, 400, 9)
	ns := namesakes(entries, true)
	for i := 0; i < 400; i++ {
		qs = append(qs, pos[(i*7)%len(pos)].query, Query{Name: names[i], Type: "person"}, ns[(i*5)%len(ns)].query)
	}
	return x, qs
}

// BenchmarkSearch and BenchmarkBruteForce screen the same queries against
// the same index (OFAC, UN and EU, every name); their ratio is the speed-up
// of candidate generation (issue 18: at least 50).
func BenchmarkSearch(b *testing.B) {
	x, qs := benchQueries(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x.Search(qs[i%len(qs)])
	}
}

func BenchmarkBruteForce(b *testing.B) {
	x, qs := benchQueries(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x.BruteForce(qs[i%len(qs)])
	}
}

// BenchmarkSearchVsBruteForce alternates Search and BruteForce on each
// query, so that both see the same load of a shared machine, and reports
// their times per query and the ratio.
func BenchmarkSearchVsBruteForce(b *testing.B) {
	x, qs := benchQueries(b)
	var search, brute time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := qs[i%len(qs)]
		t0 := time.Now()
		x.Search(q)
		t1 := time.Now()
		x.BruteForce(q)
		search += t1.Sub(t0)
		brute += time.Since(t1)
	}
	b.ReportMetric(float64(search.Nanoseconds())/float64(b.N), "search-ns/op")
	b.ReportMetric(float64(brute.Nanoseconds())/float64(b.N), "brute-ns/op")
	b.ReportMetric(float64(brute)/float64(search), "ratio")
}

// BenchmarkSearchParallel measures Search from concurrent callers (run with
// -cpu 2 for GOMAXPROCS=2): searches per second is 1e9 / ns/op.
func BenchmarkSearchParallel(b *testing.B) {
	x, qs := benchQueries(b)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			x.Search(qs[int(next.Add(1))%len(qs)])
		}
	})
}

// BenchmarkNewIndex measures building the index of all lists.
func BenchmarkNewIndex(b *testing.B) {
	entries := realLists(b)
	b.ReportAllocs()
	for b.Loop() {
		NewIndex(entries)
	}
}

// TestIndexMemory measures the heap the index of all lists holds (issue 18:
// under 100 MiB).
func TestIndexMemory(t *testing.T) {
	entries := realLists(t)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x := NewIndex(entries)
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	ne, nn := x.Len()
	t.Logf("index of %d entries, %d names, %d keys, %d postings: %.1f MiB", ne, nn, len(x.keys), len(x.postings), float64(held)/(1<<20))
	if held > 100<<20 {
		t.Errorf("the index holds %.1f MiB, more than 100", float64(held)/(1<<20))
	}
	runtime.KeepAlive(x)
}

// BenchmarkSearchDelta screens ordinary names against a 100-listing subset
// of the lists, as a delta re-screening does for each user.
func BenchmarkSearchDelta(b *testing.B) {
	entries := realLists(b)
	x := NewIndex(entries)
	var ids []string
	for _, e := range entries {
		if e.Source == entries[0].Source && len(ids) < 100 {
			ids = append(ids, e.ID)
		}
	}
	sub := x.Subset(entries[0].Source, ids)
	names := ordinaryNames(b, entries, 400, 9)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		sub.Search(Query{Name: names[i%len(names)], Type: "person", BirthDate: "1970-01-01", Nationality: "GB"})
	}
}

// BenchmarkSubsetWhole builds the subset of a whole source, as the batches
// of a first import of a list need.
func BenchmarkSubsetWhole(b *testing.B) {
	entries := realLists(b)
	x := NewIndex(entries)
	var ids []string
	for _, e := range entries {
		if e.Source == entries[0].Source {
			ids = append(ids, e.ID)
		}
	}
	for b.Loop() {
		x.Subset(entries[0].Source, ids)
	}
}
