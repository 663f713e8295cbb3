// Package snapshot bundles a snapshot of the public sanctions lists kycd
// reads (OFAC SDN, UN Security Council, an EU FSF sample), gzip-compressed in
// the binary, so that `kycd serve --sandbox` screens out of the box and
// tests need no files of their own. A snapshot is test and sandbox data,
// never current: a deployment imports the publishers' current lists
// (README.md gives provenance and licences).
package snapshot

import (
	"compress/gzip"
	"embed"
	"fmt"
	"io/fs"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/screening/lists"
)

//go:embed data
var files embed.FS

// Sources are the bundled lists' sources, in order.
var Sources = []string{kycd.SourceOFACSDN, kycd.SourceUN, kycd.SourceEUFSF}

// paths are the bundled files of the single-file lists.
var paths = map[string]string{
	kycd.SourceUN:    "data/un/consolidated.xml.gz",
	kycd.SourceEUFSF: "data/eu-fsf/fsf-sample.xml.gz",
}

// FS returns the bundled files of source, gzip-compressed: the OFAC set's
// four *.csv.gz, or the one XML file of the others ("consolidated.xml.gz",
// "fsf-sample.xml.gz").
func FS(source string) (fs.FS, error) {
	switch source {
	case kycd.SourceOFACSDN:
		return fs.Sub(files, "data/ofac-sdn")
	case kycd.SourceUN:
		return fs.Sub(files, "data/un")
	case kycd.SourceEUFSF:
		return fs.Sub(files, "data/eu-fsf")
	}
	return nil, fmt.Errorf("snapshot: no bundled list %q", source)
}

// Load parses the bundled list of source (one of Sources). Each call parses
// anew, so callers own what they get.
func Load(source string) ([]kycd.ListEntry, error) {
	if source == kycd.SourceOFACSDN {
		fsys, err := FS(source)
		if err != nil {
			return nil, err
		}
		return lists.ParseOFAC(fsys)
	}
	path, ok := paths[source]
	if !ok {
		return nil, fmt.Errorf("snapshot: no bundled list %q", source)
	}
	f, err := files.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %s: %w", path, err)
	}
	parse := lists.ParseUN
	if source == kycd.SourceEUFSF {
		parse = lists.ParseEU
	}
	return parse(zr)
}

// Entries parses every bundled list: its listings by source.
func Entries() (map[string][]kycd.ListEntry, error) {
	all := make(map[string][]kycd.ListEntry, len(Sources))
	for _, s := range Sources {
		entries, err := Load(s)
		if err != nil {
			return nil, err
		}
		all[s] = entries
	}
	return all, nil
}
