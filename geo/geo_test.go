package geo

import (
	"slices"
	"sort"
	"testing"

	"github.com/biter777/countries"
)

// TestSubdivisions: every country lists exactly the library's valid
// subdivisions for it, in code order, and they are found by
// IsSubdivisionOf.
func TestSubdivisions(t *testing.T) {
	g := New()
	if len(g.Countries()) < 240 {
		t.Fatalf("%d countries", len(g.Countries()))
	}
	total := 0
	for _, c := range g.Countries() {
		var want []string
		for _, s := range countries.ByName(c.Code).Subdivisions() {
			if s.IsValid() {
				want = append(want, string(s))
			}
		}
		sort.Strings(want)
		var got []string
		for _, s := range c.Subdivisions {
			got = append(got, s.Code)
			if !g.IsSubdivisionOf(s.Code, c.Code) {
				t.Errorf("%s is not found in %s", s.Code, c.Code)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", c.Code, got, want)
		}
		total += len(got)
	}
	if gb, _ := g.Country("GB"); len(gb.Subdivisions) < 100 || total < 4000 {
		t.Errorf("GB has %d subdivisions, all countries %d", len(gb.Subdivisions), total)
	}
}

// BenchmarkNew is what every kycd process (and every command) pays at start.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		New()
	}
}
