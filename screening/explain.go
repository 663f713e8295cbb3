package screening

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/kycd/kycd"
)

// Qualifiers: what the query states besides the name moves the name's score.
// A birth date decades from every listed one takes a name match below the
// review threshold; an agreeing one raises a weaker name match. A stated
// nationality the listing contradicts lowers it; a person matched with an
// organization (or the reverse) lowers it.
const (
	bonusExactDate      = 0.10
	bonusSameYear       = 0.05
	bonusNationality    = 0.03
	maxBonus            = bonusExactDate + bonusNationality
	penaltyDayMonth     = 0.05
	penaltyNationality  = 0.10
	penaltyTypeMismatch = 0.15
)

// yearsPenalty is what a birth year the given number of years from every
// listed date costs.
func yearsPenalty(years int) float64 {
	switch {
	case years <= 0:
		return 0
	case years == 1:
		return 0.03
	case years <= 4:
		return 0.10
	case years <= 9:
		return 0.20
	}
	return 0.35
}

// Explanation says why a listing matched: the name parts paired and their
// scores, what the query and the listing hold that the other lacks, and the
// qualifiers, each with its effect on the score; Text says it in words.
type Explanation = kycd.ScreeningExplanation

// PartPair is a part of the query paired with a part of the listed name.
type PartPair = kycd.ScreeningPair

// Feature is one thing that moved the score: "name" (its effect is the name
// score), "weakAlias", "birthDate", "nationality" or "type" (their effect is
// added to the score).
type Feature = kycd.ScreeningFeature

// queryDate is a parsed query birth date; zero fields are not stated.
type queryDate struct{ year, month, day int }

func parseQueryDate(s string) queryDate {
	var d queryDate
	if len(s) < 4 {
		return d
	}
	y, err := strconv.Atoi(s[:4])
	if err != nil || y < 1000 {
		return d
	}
	d.year = y
	if len(s) >= 7 && s[4] == '-' {
		if m, err := strconv.Atoi(s[5:7]); err == nil && m >= 1 && m <= 12 {
			d.month = m
		}
	}
	if d.month > 0 && len(s) >= 10 && s[7] == '-' {
		if dd, err := strconv.Atoi(s[8:10]); err == nil && dd >= 1 && dd <= 31 {
			d.day = dd
		}
	}
	return d
}

// qualify returns the sum of the qualifiers' effects; with feats it also
// records each.
func qualify(q Query, bd queryDate, e *kycd.ListEntry, feats *[]Feature) float64 {
	var total float64
	note := func(name string, effect float64, detail string) {
		total += effect
		if feats != nil {
			*feats = append(*feats, Feature{Name: name, Effect: round3(effect), Detail: detail})
		}
	}
	if bd.year > 0 && len(e.BirthDates) > 0 {
		effect, detail := birthDateEffect(bd, e.BirthDates)
		note("birthDate", effect, detail)
	}
	if q.Nationality != "" && len(e.Nationalities) > 0 {
		nat := strings.ToUpper(q.Nationality)
		found := false
		for _, n := range e.Nationalities {
			if strings.EqualFold(n, nat) {
				found = true
			}
		}
		if found {
			note("nationality", bonusNationality, fmt.Sprintf("nationality %s is listed", nat))
		} else {
			note("nationality", -penaltyNationality, fmt.Sprintf("nationality %s contradicts the listed %s", nat, strings.Join(e.Nationalities, ", ")))
		}
	}
	if q.Type != "" && e.Type != "" && q.Type != e.Type {
		if !(q.Type == kycd.EntryOrganization && (e.Type == kycd.EntryVessel || e.Type == kycd.EntryAircraft)) {
			note("type", -penaltyTypeMismatch, fmt.Sprintf("the query is of type %s, the listing of type %s", q.Type, e.Type))
		}
	}
	return total
}

// birthDateEffect compares a birth date with the listed ones and returns the
// effect of the closest.
func birthDateEffect(bd queryDate, dates []kycd.ListDate) (float64, string) {
	bestEffect, bestDetail := math.Inf(-1), ""
	for _, d := range dates {
		if d.Year == 0 {
			continue
		}
		lo, hi := d.Year, d.Year
		if d.ToYear > d.Year {
			hi = d.ToYear
		}
		if d.Circa {
			lo, hi = lo-2, hi+2
		}
		listed := formatListDate(d)
		var effect float64
		var detail string
		switch {
		case bd.year < lo || bd.year > hi:
			years := lo - bd.year
			if bd.year > hi {
				years = bd.year - hi
			}
			effect = -yearsPenalty(years)
			detail = fmt.Sprintf("birth year %d is %d year(s) from the listed %s", bd.year, years, listed)
		case bd.day > 0 && d.Day > 0 && d.ToYear == 0 && !d.Circa:
			if bd.year == d.Year && bd.month == d.Month && bd.day == d.Day {
				effect, detail = bonusExactDate, fmt.Sprintf("birth date agrees with the listed %s", listed)
			} else if bd.year == d.Year {
				effect, detail = -penaltyDayMonth, fmt.Sprintf("birth date has the listed year but not the listed day %s", listed)
			} else {
				effect, detail = -yearsPenalty(absDiff(bd.year, d.Year)), fmt.Sprintf("birth year %d differs from the listed %s", bd.year, listed)
			}
		default:
			effect, detail = bonusSameYear, fmt.Sprintf("birth year %d agrees with the listed %s", bd.year, listed)
		}
		if effect > bestEffect {
			bestEffect, bestDetail = effect, detail
		}
	}
	if math.IsInf(bestEffect, -1) {
		return 0, "no listed birth year"
	}
	return bestEffect, bestDetail
}

// formatListDate writes a listed date as a reviewer reads it.
func formatListDate(d kycd.ListDate) string {
	var s string
	switch {
	case d.Day > 0 && d.Month > 0:
		s = fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
	case d.Month > 0:
		s = fmt.Sprintf("%04d-%02d", d.Year, d.Month)
	default:
		s = fmt.Sprintf("%04d", d.Year)
	}
	if d.ToYear > d.Year {
		s = fmt.Sprintf("%04d to %04d", d.Year, d.ToYear)
	}
	if d.Circa {
		s = "circa " + s
	}
	return s
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// explain re-scores the chosen name with its detail and writes it out.
func (x *Index) explain(q Query, bd queryDate, qf *form, ln *listedName, e *kycd.ListEntry, final float64) Explanation {
	a := align(qf, &ln.form, nil, true)
	var ex Explanation
	name := a.score
	for _, p := range a.pairs {
		ex.Pairs = append(ex.Pairs, PartPair{
			Query:  spanText(qf, p.q, p.qRun),
			Listed: spanText(&ln.form, p.l, p.lRun),
			Score:  round3(p.score),
			Kind:   p.kind,
		})
	}
	for _, i := range a.qUnmatched {
		ex.QueryOnly = append(ex.QueryOnly, qf.parts[i].fold)
	}
	for _, j := range a.lUnmatched {
		ex.ListedOnly = append(ex.ListedOnly, ln.form.parts[j].fold)
	}
	ex.Features = append(ex.Features, Feature{Name: "name", Effect: round3(a.score), Detail: "name parts compared"})
	if ln.weak {
		effect := name*weakAliasFactor - name
		name += effect
		ex.Features = append(ex.Features, Feature{Name: "weakAlias", Effect: round3(effect), Detail: "the matched name is a weak alias"})
	}
	ex.NameScore = round3(name)
	qualify(q, bd, e, &ex.Features)

	var b strings.Builder
	fmt.Fprintf(&b, "score %.2f. Name %.2f:", final, ex.NameScore)
	for i, p := range ex.Pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %q ~ %q %.2f (%s)", p.Query, p.Listed, p.Score, p.Kind)
	}
	if len(ex.QueryOnly) > 0 {
		fmt.Fprintf(&b, "; not in the listed name: %s", strings.Join(ex.QueryOnly, ", "))
	}
	if len(ex.ListedOnly) > 0 {
		fmt.Fprintf(&b, "; listed but not in the query: %s", strings.Join(ex.ListedOnly, ", "))
	}
	b.WriteByte('.')
	for _, f := range ex.Features[1:] {
		fmt.Fprintf(&b, " %s%s (%+.2f).", strings.ToUpper(f.Detail[:1]), f.Detail[1:], f.Effect)
	}
	ex.Text = b.String()
	return ex
}

// spanText writes a part, or a run of parts, as the query or listing holds it.
func spanText(f *form, i int, isRun bool) string {
	if !isRun {
		return f.parts[i].fold
	}
	r := f.runs[i]
	words := make([]string, r.n)
	for k := range words {
		words[k] = f.parts[(int(r.first)+k)%len(f.parts)].fold
	}
	return strings.Join(words, " ")
}
