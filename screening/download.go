package screening

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/screening/lists"
)

// MaxDownload caps one downloaded file (the parsers' own cap on a list).
const MaxDownload = 256 << 20

// ofacFiles are the files of the OFAC CSV set, downloaded from one base URL;
// the comments file is optional.
var ofacFiles = []string{"sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"}

// ParseSource reads a --screening-source setting, NAME=URL: NAME is a
// publisher's format (ofac-sdn, un, eu-fsf: the URL of its file, or the
// folder of the OFAC CSV set) or the name of an operator's list in kycd's
// JSON Lines format; the URL is http or https.
func ParseSource(v string) (name, rawURL string, err error) {
	name, rawURL, ok := strings.Cut(v, "=")
	u, perr := url.Parse(rawURL)
	switch {
	case !ok || !lists.ValidSource(name):
		return "", "", fmt.Errorf("--screening-source %q: want NAME=URL, NAME a list's name (ofac-sdn, un, eu-fsf, or your own)", v)
	case perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return "", "", fmt.Errorf("--screening-source %s: %q is not an http(s) URL", name, rawURL)
	}
	return name, rawURL, nil
}

// Sources are the names of the lists downloaded on a schedule, sorted.
func (s *Service) Sources() []string { return slices.Sorted(maps.Keys(s.sources)) }

// formatOf is the format of a source name.
func formatOf(source string) string {
	if slices.Contains([]string{kycd.SourceOFACSDN, kycd.SourceUN, kycd.SourceEUFSF}, source) {
		return source
	}
	return kycd.FormatJSONL
}

// Download fetches the current version of a configured source and imports
// it. A failed, truncated or malformed download changes nothing: the
// current version stays (the parsers read a list whole or not at all).
func (s *Service) Download(ctx context.Context, source string) (*ImportResult, error) {
	base, ok := s.sources[source]
	if !ok {
		return nil, kycd.NotFound("screening-source")
	}
	dir, err := os.MkdirTemp("", "kycd-list-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	format := formatOf(source)
	path := filepath.Join(dir, "list")
	if format == kycd.SourceOFACSDN {
		path = dir
		for _, name := range ofacFiles {
			u, err := url.JoinPath(base, name) // keeps a query (a key) where it belongs
			if err != nil {
				return nil, err
			}
			err = s.fetch(ctx, u, filepath.Join(dir, name))
			if errors.Is(err, errNotFound) && name == "sdn_comments.csv" {
				continue
			}
			if err != nil {
				return nil, err
			}
		}
	} else if err := s.fetch(ctx, base, path); err != nil {
		return nil, err
	}
	entries, err := lists.LoadSource(format, source, path)
	if err != nil {
		return nil, err
	}
	res, err := s.Import(ctx, ImportRequest{Source: source, Format: format, Origin: redact(base), Entries: entries})
	if err != nil {
		return nil, err
	}
	s.logger.Info("screening list downloaded", slog.String("source", source), slog.Bool("changed", res.Changed), slog.Int("version", res.Version.Version))
	return res, nil
}

var errNotFound = errors.New("screening: not found")

// fetch downloads one file through the service's (guarded) client.
func (s *Service) fetch(ctx context.Context, rawURL, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	res, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("screening: downloading %s: %w", redact(rawURL), err)
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s", errNotFound, redact(rawURL))
	case res.StatusCode != http.StatusOK:
		return fmt.Errorf("screening: downloading %s: status %d", redact(rawURL), res.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(res.Body, MaxDownload+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return fmt.Errorf("screening: downloading %s: %w", redact(rawURL), err)
	case n > MaxDownload:
		return fmt.Errorf("screening: %s is over %d bytes", redact(rawURL), MaxDownload)
	case res.ContentLength >= 0 && n != res.ContentLength:
		return fmt.Errorf("screening: %s: %d bytes of %d received", redact(rawURL), n, res.ContentLength)
	}
	return nil
}

// redact is a URL without its credentials and query (which may hold a key).
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(bad URL)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}
