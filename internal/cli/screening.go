package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/screening"
	"github.com/kycd/kycd/screening/lists"
)

// cmdScreeningImport imports a version of a screening list from the
// publisher's files (or kycd's JSON Lines format).
func cmdScreeningImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var format, path, name string
	var allowShrink bool
	flags := func(fs *flagSet) {
		fs.StringVar(&format, "source", "", "the list's format: "+strings.Join(lists.Formats, ", "))
		fs.StringVar(&path, "path", "", "the list's file (the folder of the CSV set for ofac-sdn)")
		fs.StringVar(&name, "name", "", "the source name of a kycd-jsonl list (default: the file's name without extension)")
		fs.BoolVar(&allowShrink, "allow-shrink", false, "accept a version that drops more than half of the source's listings")
	}
	return adminCommand(ctx, "screening import", args, getenv, stderr, flags, func(a *app) error {
		if path == "" {
			return fmt.Errorf("--path is required")
		}
		source := format
		if format == kycd.FormatJSONL {
			source = name
			if source == "" {
				source = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
			}
		} else if name != "" {
			return fmt.Errorf("--name names a kycd-jsonl list only (the publishers' lists are named after their format)")
		}
		entries, err := lists.LoadSource(format, source, path)
		if err != nil {
			return err
		}
		res, err := a.screening.Import(adminContext(ctx), screening.ImportRequest{Source: source, Format: format,
			Origin: filepath.Base(path), Entries: entries, AllowShrink: allowShrink})
		if err != nil {
			return describe(err)
		}
		if a.opts.JSON {
			return printJSON(stdout, res)
		}
		v := res.Version
		if !res.Changed {
			fmt.Fprintf(stdout, "%s: identical to version %d (%d entries); nothing changed\n", v.Source, v.Version, v.Entries)
			return nil
		}
		fmt.Fprintf(stdout, "%s: version %d imported: %d entries (%d names); %d added, %d changed, %d removed\n",
			v.Source, v.Version, v.Entries, v.Names, v.Added, v.Changed, v.Removed)
		return nil
	})
}

// cmdScreeningLists prints the current version of every screening list.
func cmdScreeningLists(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return adminCommand(ctx, "screening lists", args, getenv, stderr, nil, func(a *app) error {
		vs, err := a.screening.Lists(ctx)
		if err != nil {
			return err
		}
		if a.opts.JSON {
			if vs == nil {
				vs = []*kycd.ListVersion{}
			}
			return printJSON(stdout, map[string]any{"lists": vs})
		}
		for _, v := range vs {
			fmt.Fprintf(stdout, "%-12s version %d, imported %s, %d entries (%d names)\n", v.Source, v.Version,
				v.ImportedAt.Format("2006-01-02 15:04:05Z"), v.Entries, v.Names)
		}
		return nil
	})
}
