package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/reviewers"
)

// pageData is what every page shows: its title, the signed-in reviewer,
// a notice or an error; Page holds the page's own data.
type pageData struct {
	Title    string
	Reviewer *kycd.Reviewer
	Notice   string
	Error    string
	Page     any
}

var funcs = template.FuncMap{
	"pct": func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"signed": func(f float64) string {
		return fmt.Sprintf("%+.2f", f)
	},
	"join": func(s []string) string {
		if len(s) == 0 {
			return "—"
		}
		return strings.Join(s, ", ")
	},
	"orDash": func(s string) string {
		if s == "" {
			return "—"
		}
		return s
	},
	"when":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"can":     reviewers.Can,
	"size":    size,
	"whenPtr": whenPtr,
	"short": func(id string) string {
		if len(id) > 8 {
			return id[:8]
		}
		return id
	},
}

// parsedPages are the pages parsed once per process: templates are safe to
// execute at once, and a process may start several consoles (the tests).
var parsedPages = sync.OnceValues(parsePages)

// parsePages parses each page with the layout it shares.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	// Partials (named _*.html) are parsed with every page.
	shared := []string{"templates/layout.html"}
	for _, n := range names {
		if strings.HasPrefix(n, "templates/_") {
			shared = append(shared, n)
		}
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimPrefix(n, "templates/")
		if name == "layout.html" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, append(slices.Clone(shared), n)...)
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// page renders a page whole before writing it, so that a template error
// is an error page, not half a page.
func (s *Server) page(w http.ResponseWriter, r *http.Request, status int, name string, data *pageData) {
	if data.Reviewer == nil {
		data.Reviewer = reviewerOf(r)
	}
	var b bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&b, "layout", data); err != nil {
		s.logger.Error("console template", "page", name, "error", err.Error(), "request_id", kycd.RequestIDFromContext(r.Context()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// handleStatic serves the embedded stylesheet (no personal data: cached).
func (s *Server) handleStatic() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/console/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// handleNotFound answers console paths no route matched.
func (s *Server) handleNotFound() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error { return kycd.NotFound("page") }
}

// age says how long ago t was, in the largest unit that fits.
func age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
