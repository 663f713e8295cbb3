package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/kycd/kycd"
)

// Lists reads the screening lists' versions and deltas (system-wide:
// every tenant screens against them; public data).
type Lists interface {
	Lists(ctx context.Context) ([]*kycd.ListVersion, error)
	ListHistory(ctx context.Context, source string, limit int) ([]*kycd.ListVersion, error)
	ListChanges(ctx context.Context, source string, version int, f kycd.ListChangeFilter) ([]kycd.ListChange, error)
}

// historySize is how many versions of a source its page shows.
const historySize = 100

// deltaPageSize is how many listings of a delta a page shows.
const deltaPageSize = 100

// handleLists shows the version in force of every screening list.
func (s *Server) handleLists() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		list, err := s.lists.Lists(r.Context())
		if err != nil {
			return err
		}
		s.page(w, r, http.StatusOK, "lists.html", &pageData{Title: "Screening lists", Page: list})
		return nil
	}
}

// listPage is a source's versions, newest first.
type listPage struct {
	Source   string
	Versions []*kycd.ListVersion
}

// handleList shows a screening list's versions.
func (s *Server) handleList() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		source := r.PathValue("source")
		list, err := s.lists.ListHistory(r.Context(), source, historySize)
		if err != nil {
			return err
		}
		s.page(w, r, http.StatusOK, "list.html", &pageData{Title: "List " + source, Page: listPage{Source: source, Versions: list}})
		return nil
	}
}

// deltaPage is one page of a version's delta.
type deltaPage struct {
	Version *kycd.ListVersion
	Kind    string
	Kinds   []string
	Changes []kycd.ListChange
	Next    string
}

// deltaKinds are the delta's filters.
var deltaKinds = []string{"all", kycd.ListAdded, kycd.ListChanged, kycd.ListRemoved}

// handleListVersion shows one version of a list and its delta from the
// version before (listings added, changed, removed), by listing id, 100 a
// page, filtered by kind.
func (s *Server) handleListVersion() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		source := r.PathValue("source")
		version, err := strconv.Atoi(r.PathValue("version"))
		if err != nil || version < 1 {
			return kycd.NotFound("list-version")
		}
		ctx := r.Context()
		q := r.URL.Query()
		p := deltaPage{Kind: q.Get("kind"), Kinds: deltaKinds}
		if !slices.Contains(deltaKinds, p.Kind) {
			p.Kind = "all"
		}
		f := kycd.ListChangeFilter{After: q.Get("after"), Limit: deltaPageSize + 1}
		if p.Kind != "all" {
			f.Kind = p.Kind
		}
		changes, err := s.lists.ListChanges(ctx, source, version, f)
		if err != nil {
			return err
		}
		history, err := s.lists.ListHistory(ctx, source, historySize)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(history, func(v *kycd.ListVersion) bool { return v.Version == version })
		if i < 0 { // older than the page of history: read it all
			if history, err = s.lists.ListHistory(ctx, source, version+historySize); err != nil {
				return err
			}
			if i = slices.IndexFunc(history, func(v *kycd.ListVersion) bool { return v.Version == version }); i < 0 {
				return kycd.NotFound("list-version")
			}
		}
		p.Version, p.Changes = history[i], changes
		if len(changes) > deltaPageSize { // one more than a page: there is a next
			p.Changes = changes[:deltaPageSize]
			p.Next = r.URL.Path + "?" + url.Values{"kind": {p.Kind}, "after": {p.Changes[deltaPageSize-1].EntryID}}.Encode()
		}
		s.page(w, r, http.StatusOK, "list-version.html", &pageData{Title: source + " version " + strconv.Itoa(version), Page: p})
		return nil
	}
}
