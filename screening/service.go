package screening

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/screening/lists"
)

// Config holds the service's dependencies.
type Config struct {
	Lists kycd.ScreeningListStore
	Cases kycd.CaseStore
	// Tenants gives the tenants' settings (four eyes).
	Tenants TenantReader
	// Users and Monitor serve ongoing monitoring (re-screening users).
	Users   UserReader
	Monitor kycd.ScreeningMonitorStore
	// KYC records screenings with the screening process.
	KYC KYC
	// Digests keys the digest of what a user was screened with.
	Digests Digester
	Clock   kycd.Clock
	Logger  *slog.Logger
	// MaxAge is how old a source's last import may be before the service
	// calls it stale (default 48h).
	MaxAge time.Duration
	// Off turns screening off (the operator's explicit choice): users are
	// not screened, and Status says so.
	Off bool
	// Sources are the lists downloaded on a schedule, their URLs by name
	// (see ParseSource); HTTP downloads them (through the SSRF guard).
	Sources map[string]string
	HTTP    *http.Client
}

// TenantReader reads tenants.
type TenantReader interface {
	FindTenantByID(ctx context.Context, id string) (*kycd.Tenant, error)
}

// UserReader reads users.
type UserReader interface {
	FindUserByID(ctx context.Context, tenantID, id string) (*kycd.User, error)
}

// Digester computes keyed digests of personal data (the vault's blind
// indexes).
type Digester interface {
	BlindIndex(ctx context.Context, tenantID, purpose, value string) (string, error)
}

// Service screens names against the screening lists: it imports list
// versions (computing their delta) and keeps an index of the current
// listings, reloaded when another process imports a version.
type Service struct {
	lists   kycd.ScreeningListStore
	cases   kycd.CaseStore
	users   UserReader
	tenants TenantReader
	monitor kycd.ScreeningMonitorStore
	kyc     KYC
	vault   Digester
	clock   kycd.Clock
	logger  *slog.Logger
	maxAge  time.Duration
	off     bool
	sources map[string]string
	http    *http.Client

	reload  sync.Mutex              // one reload at a time
	current atomic.Pointer[catalog] // nil until the first load
}

// catalog is the loaded state: the versions the index was built from.
type catalog struct {
	versions []*kycd.ListVersion
	index    *Index
	names    int
	// digests are the listings' digests, by source and id.
	digests map[string]string

	deltaMu sync.Mutex        // one build of a delta index at a time
	deltas  map[string]*Index // the deltas' indexes, by source and version
}

// deltaIndex is the index of the listings a version added or changed (ids),
// built once per catalog and shared by the batches of its re-screening: a
// whole list's (a first import) takes about a second to build.
func (c *catalog) deltaIndex(source string, version int, ids []string) *Index {
	c.deltaMu.Lock()
	defer c.deltaMu.Unlock()
	k := source + "\x00" + strconv.Itoa(version)
	if x, ok := c.deltas[k]; ok {
		return x
	}
	if len(c.deltas) >= 4 {
		clear(c.deltas) // a few deltas at once at most; rebuilt when needed
	}
	if c.deltas == nil {
		c.deltas = map[string]*Index{}
	}
	x := c.index.Subset(source, ids)
	c.deltas[k] = x
	return x
}

// lists are the catalog's versions, by source.
func (c *catalog) lists() map[string]int {
	out := make(map[string]int, len(c.versions))
	for _, v := range c.versions {
		out[v.Source] = v.Version
	}
	return out
}

// New returns the service.
func New(c Config) (*Service, error) {
	if c.Lists == nil || c.Cases == nil || c.Tenants == nil || c.Users == nil || c.Monitor == nil || c.KYC == nil || c.Digests == nil {
		return nil, errors.New("screening: missing dependency")
	}
	if c.Clock == nil {
		c.Clock = kycd.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 48 * time.Hour
	}
	if len(c.Sources) > 0 && c.HTTP == nil {
		return nil, errors.New("screening: downloads need an HTTP client")
	}
	return &Service{lists: c.Lists, cases: c.Cases, users: c.Users, tenants: c.Tenants, monitor: c.Monitor, kyc: c.KYC, vault: c.Digests, clock: c.Clock, logger: c.Logger, maxAge: c.MaxAge, off: c.Off, sources: c.Sources, http: c.HTTP}, nil
}

// ImportRequest is a list version to import: every listing of one source.
type ImportRequest struct {
	Source string
	Format string
	// Origin says where the listings came from (a file name, a URL).
	Origin  string
	Entries []kycd.ListEntry
	// AllowShrink accepts a version that drops more than half of the
	// source's listings (refused by default: it is more often a truncated
	// or wrong file than a real delisting).
	AllowShrink bool
}

// ImportResult is what an import did.
type ImportResult struct {
	// Changed is false when the listings were those of the current version:
	// nothing was recorded.
	Changed bool              `json:"changed"`
	Version *kycd.ListVersion `json:"version"`
}

// Limits of an import.
const (
	// MaxEntries bounds the listings of one source.
	MaxEntries = 1_000_000
	// shrinkFloor is the smallest current list the shrink guard protects.
	shrinkFloor = 20
)

// Import records a new version of a source when its listings differ from
// the current version's: the listings added, changed and removed, in one
// transaction with an audit entry in every tenant's chain. An import
// identical to the current version changes nothing. Errors: ERequestInvalid
// (a bad source name, no listings, a listing without id or name, a
// duplicate id, or a shrink past half without AllowShrink), EStale (another
// import of the source committed meanwhile).
func (s *Service) Import(ctx context.Context, req ImportRequest) (*ImportResult, error) {
	if !lists.ValidSource(req.Source) {
		return nil, kycd.Invalid("source", kycd.Violation{Property: "source", Rule: "pattern"})
	}
	if len(req.Entries) == 0 {
		return nil, kycd.Invalid("entries", kycd.Violation{Property: "entries", Rule: "required"})
	}
	if len(req.Entries) > MaxEntries {
		return nil, kycd.Invalid("entries", kycd.Violation{Property: "entries", Rule: "maxItems",
			RuleParams: map[string]any{"maxItems": MaxEntries}})
	}
	entries := make([]kycd.StoredEntry, len(req.Entries))
	seen := make(map[string]bool, len(req.Entries))
	names := 0
	for i, e := range req.Entries {
		if e.Source == "" {
			e.Source = req.Source
		}
		switch {
		case e.Source != req.Source:
			return nil, kycd.Invalid("entries", kycd.Violation{Property: fmt.Sprintf("entries[%d].source", i), Rule: "const",
				RuleParams: map[string]any{"const": req.Source}})
		case e.ID == "":
			return nil, kycd.Invalid("entries", kycd.Violation{Property: fmt.Sprintf("entries[%d].id", i), Rule: "required"})
		case len(e.Names) == 0:
			return nil, kycd.Invalid("entries", kycd.Violation{Property: fmt.Sprintf("entries[%d].names", i), Rule: "required"})
		case seen[e.ID]:
			return nil, kycd.Invalid("entries", kycd.Violation{Property: fmt.Sprintf("entries[%d].id", i), Rule: "unique"})
		}
		if err := lists.Validate(e); err != nil {
			return nil, kycd.Invalid("entries", kycd.Violation{Property: fmt.Sprintf("entries[%d]", i), Rule: "valid",
				RuleParams: map[string]any{"reason": err.Error()}})
		}
		seen[e.ID] = true
		names += len(e.Names)
		d, err := digest(&e)
		if err != nil {
			return nil, err
		}
		entries[i] = kycd.StoredEntry{ListEntry: e, Digest: d}
	}
	slices.SortFunc(entries, func(a, b kycd.StoredEntry) int { return cmp.Compare(a.ID, b.ID) })

	versions, err := s.lists.FindListVersions(ctx)
	if err != nil {
		return nil, err
	}
	var current *kycd.ListVersion
	for _, v := range versions {
		if v.Source == req.Source {
			current = v
		}
	}
	v := kycd.ListVersion{Source: req.Source, Format: req.Format, Version: 1, Digest: versionDigest(entries),
		Origin: req.Origin, Entries: len(entries), Names: names}
	imp := &kycd.ListImport{Action: "screening.list-imported"}
	if current != nil {
		if current.Digest == v.Digest {
			return &ImportResult{Changed: false, Version: current}, nil
		}
		if !req.AllowShrink && current.Entries >= shrinkFloor && len(entries)*2 < current.Entries {
			return nil, kycd.Invalid("entries", kycd.Violation{Property: "entries", Rule: "shrink",
				RuleParams: map[string]any{"current": current.Entries, "new": len(entries)}})
		}
		v.Version, imp.Previous = current.Version+1, current.Version
	}
	stored, err := s.lists.FindListDigests(ctx, req.Source)
	if err != nil {
		return nil, err
	}
	var removedNames map[string]string
	for _, e := range entries {
		old, ok := stored[e.ID]
		switch {
		case !ok:
			imp.Changes = append(imp.Changes, kycd.ListChange{EntryID: e.ID, Kind: kycd.ListAdded, Name: e.Names[0].Full})
			imp.Upserts = append(imp.Upserts, e)
			v.Added++
		case old != e.Digest:
			imp.Changes = append(imp.Changes, kycd.ListChange{EntryID: e.ID, Kind: kycd.ListChanged, Name: e.Names[0].Full})
			imp.Upserts = append(imp.Upserts, e)
			v.Changed++
		}
		delete(stored, e.ID)
	}
	if len(stored) > 0 {
		gone := slices.Sorted(maps.Keys(stored))
		old, err := s.lists.FindListEntries(ctx, kycd.ListEntryFilter{Source: req.Source, IDs: gone})
		if err != nil {
			return nil, err
		}
		removedNames = make(map[string]string, len(old))
		for _, e := range old {
			if len(e.Names) > 0 {
				removedNames[e.ID] = e.Names[0].Full
			}
		}
		for _, id := range gone {
			imp.Changes = append(imp.Changes, kycd.ListChange{EntryID: id, Kind: kycd.ListRemoved, Name: removedNames[id]})
		}
		imp.Removed, v.Removed = gone, len(gone)
	}
	imp.Version = v
	// Every live user is screened against what the version added or
	// changed, and the cases of what it removed close.
	imp.Jobs = []kycd.JobArgs{kycd.ScreeningDeltaArgs{Source: v.Source, Version: v.Version}}
	imp.Details = map[string]any{"source": v.Source, "version": v.Version, "digest": v.Digest, "entries": v.Entries,
		"added": v.Added, "changed": v.Changed, "removed": v.Removed}
	if err := s.lists.SaveListImport(ctx, imp); err != nil {
		return nil, err
	}
	s.logger.Info("screening list imported", slog.String("source", v.Source), slog.Int("version", v.Version),
		slog.Int("entries", v.Entries), slog.Int("added", v.Added), slog.Int("changed", v.Changed), slog.Int("removed", v.Removed))
	return &ImportResult{Changed: true, Version: &imp.Version}, nil
}

// Lists returns the current version of every source.
func (s *Service) Lists(ctx context.Context) ([]*kycd.ListVersion, error) {
	return s.lists.FindListVersions(ctx)
}

// ListHistory returns a source's versions, newest first, at most limit of
// them, or ENotFound ("list") for a source never imported.
func (s *Service) ListHistory(ctx context.Context, source string, limit int) ([]*kycd.ListVersion, error) {
	list, err := s.lists.FindListHistory(ctx, source, limit)
	if err == nil && len(list) == 0 {
		return nil, kycd.NotFound("list")
	}
	return list, err
}

// ListChanges returns the delta of one version of a source, by listing id,
// as the filter selects (ENotFound "list-version" when there is no such
// version).
func (s *Service) ListChanges(ctx context.Context, source string, version int, f kycd.ListChangeFilter) ([]kycd.ListChange, error) {
	return s.lists.FindListChanges(ctx, source, version, f)
}

// Refresh loads the current listings into the index when the stored
// versions differ from the loaded ones (an import by this process or by
// another one on the same database), and reports whether it reloaded.
func (s *Service) Refresh(ctx context.Context) (bool, error) {
	versions, err := s.lists.FindListVersions(ctx)
	if err != nil {
		return false, err
	}
	if c := s.current.Load(); c != nil && sameVersions(c.versions, versions) {
		return false, nil
	}
	s.reload.Lock()
	defer s.reload.Unlock()
	// Read again under the lock: a caller that waited must not label newer
	// listings with the versions it read before.
	if versions, err = s.lists.FindListVersions(ctx); err != nil {
		return false, err
	}
	if c := s.current.Load(); c != nil && sameVersions(c.versions, versions) {
		return false, nil // reloaded by a concurrent caller
	}
	stored, err := s.lists.FindListEntries(ctx, kycd.ListEntryFilter{})
	if err != nil {
		return false, err
	}
	entries := make([]kycd.ListEntry, len(stored))
	digests := make(map[string]string, len(stored))
	names := 0
	for i, e := range stored {
		entries[i] = e.ListEntry
		digests[e.Source+"\x00"+e.ID] = e.Digest
		names += len(e.Names)
	}
	// Versions are read before the listings: an import committed in
	// between makes the next Refresh load again, never the reverse.
	s.current.Store(&catalog{versions: versions, index: NewIndex(entries), names: names, digests: digests})
	s.logger.Info("screening index loaded", slog.Int("sources", len(versions)), slog.Int("entries", len(entries)), slog.Int("names", names))
	return true, nil
}

// Run refreshes the index every interval until ctx ends, and warns once
// per version of a source that grew older than MaxAge.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	warned := map[string]int{}
	for {
		if _, err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("screening: loading the lists", slog.String("error", err.Error()))
		}
		st := s.Status()
		for _, v := range st.Versions {
			if slices.Contains(st.Stale, v.Source) && warned[v.Source] != v.Version {
				warned[v.Source] = v.Version
				s.logger.Warn("screening list is older than --screening-max-age: import a current version", slog.String("source", v.Source),
					slog.Int("version", v.Version), slog.Time("imported_at", v.ImportedAt), slog.Duration("max_age", s.maxAge))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Limits of a search.
const (
	maxQueryName = 300
	maxLimit     = 100
)

var (
	birthDatePattern   = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)
	nationalityPattern = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Search screens a name, qualified by the birth date, nationality and type
// the query gives, against the loaded lists: the listings that resemble it,
// best first, each explained. Errors: ERequestInvalid (no name, a name over
// 300 characters, a type, birth date, nationality or limit out of range),
// EServiceUnavailable (screening is off).
func (s *Service) Search(ctx context.Context, q Query) ([]Match, error) {
	if s.off {
		return nil, kycd.Errorf(kycd.EServiceUnavailable, "Screening is turned off on this kycd")
	}
	var vs []kycd.Violation
	if strings.TrimSpace(q.Name) == "" {
		vs = append(vs, kycd.Violation{Property: "name", Rule: "required"})
	} else if utf8.RuneCountInString(q.Name) > maxQueryName || !utf8.ValidString(q.Name) || strings.ContainsRune(q.Name, 0) {
		vs = append(vs, kycd.Violation{Property: "name", Rule: "maxLength", RuleParams: map[string]any{"maxLength": maxQueryName}})
	}
	switch q.Type {
	case "", kycd.EntryPerson, kycd.EntryOrganization:
	default:
		vs = append(vs, kycd.Violation{Property: "type", Rule: "enum", RuleParams: map[string]any{"enum": []string{kycd.EntryPerson, kycd.EntryOrganization}}})
	}
	if q.BirthDate != "" && (!birthDatePattern.MatchString(q.BirthDate) || !validDate(q.BirthDate)) {
		vs = append(vs, kycd.Violation{Property: "birthDate", Rule: "format", RuleParams: map[string]any{"format": "YYYY, YYYY-MM or YYYY-MM-DD"}})
	}
	if q.Nationality != "" && (!nationalityPattern.MatchString(q.Nationality) || !lists.ValidCountry(q.Nationality)) {
		vs = append(vs, kycd.Violation{Property: "nationality", Rule: "format", RuleParams: map[string]any{"format": "ISO 3166-1 alpha-2"}})
	}
	if q.Limit < 0 || q.Limit > maxLimit {
		vs = append(vs, kycd.Violation{Property: "limit", Rule: "range", RuleParams: map[string]any{"minimum": 1, "maximum": maxLimit}})
	}
	if len(vs) > 0 {
		return nil, kycd.Invalid("query", vs...)
	}
	c, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	return c.index.Search(q), nil
}

// validDate reports whether a YYYY, YYYY-MM or YYYY-MM-DD date exists.
func validDate(d string) bool {
	layout := map[int]string{4: "2006", 7: "2006-01", 10: "2006-01-02"}[len(d)]
	_, err := time.Parse(layout, d)
	return layout != "" && err == nil
}

// index returns the loaded index, loading it on first use.
func (s *Service) index(ctx context.Context) (*catalog, error) {
	if c := s.current.Load(); c != nil {
		return c, nil
	}
	if _, err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s.current.Load(), nil
}

// Status is the state of the loaded lists, for readiness and monitoring.
type Status struct {
	// Off is true when the operator turned screening off.
	Off bool
	// Loaded is false until the lists were read once.
	Loaded bool
	// Versions are the loaded versions.
	Versions []*kycd.ListVersion
	// Stale names the sources whose last import is older than MaxAge.
	Stale []string
}

// Status reports the loaded lists and which of them are stale.
func (s *Service) Status() Status {
	c := s.current.Load()
	if c == nil {
		return Status{Off: s.off}
	}
	st := Status{Off: s.off, Loaded: true, Versions: c.versions}
	now := s.clock.Now()
	for _, v := range c.versions {
		if now.Sub(v.ImportedAt) > s.maxAge {
			st.Stale = append(st.Stale, v.Source)
		}
	}
	return st
}

func sameVersions(a, b []*kycd.ListVersion) bool {
	return slices.EqualFunc(a, b, func(x, y *kycd.ListVersion) bool { return x.Source == y.Source && x.Version == y.Version })
}

// digest identifies a listing's content.
func digest(e *kycd.ListEntry) (string, error) {
	raw, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:16]), nil
}

// versionDigest identifies a version's content: its listings' ids and
// digests, in id order.
func versionDigest(sorted []kycd.StoredEntry) string {
	h := sha256.New()
	for _, e := range sorted {
		h.Write([]byte(e.ID))
		h.Write([]byte{0})
		h.Write([]byte(e.Digest))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}
