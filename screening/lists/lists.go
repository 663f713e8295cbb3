// Package lists reads screening lists in their publishers' formats (OFAC's
// legacy SDN CSV set, the UN Security Council consolidated XML, the EU
// Financial Sanctions Files XML) and in kycd's own JSON Lines format, into
// kycd.ListEntry values.
//
// Every parser is strict: input that is malformed, truncated, hostile (XML
// DOCTYPE or entity declarations, fields or files beyond the limits below) or
// that yields an invalid entry (no name, an absurd date, a duplicate id) is
// refused as a whole with an *Error naming the file and the line or element;
// no partial list is ever returned. Text is normalized lightly and losslessly
// (trimmed, runs of white space collapsed to one space, the publisher's
// spelling kept); the matcher does the rest.
package lists

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kycd/kycd"
)

// Formats are the list formats Load reads, in the order they are documented.
var Formats = []string{kycd.SourceOFACSDN, kycd.SourceUN, kycd.SourceEUFSF, kycd.FormatJSONL}

// Limits, far above the real lists (the longest remark is under 2 KB, the
// longest name 346 bytes, the whole UN list 2 MB) and low enough that hostile
// input cannot exhaust memory. Input beyond a limit is refused with ErrLimit.
const (
	// MaxInputBytes caps one file (after gzip decompression).
	MaxInputBytes = 256 << 20
	// MaxRecordBytes caps one CSV record, one JSON line or one XML listing
	// element (INDIVIDUAL, ENTITY, sanctionEntity), and any XML token
	// between listings.
	MaxRecordBytes = 1 << 20
	// MaxEntries caps the listings of one list.
	MaxEntries = 2_000_000
	// MaxItems caps each repeated field of one listing (names, dates,
	// places, nationalities, countries, identifiers, programmes).
	MaxItems = 1000
	// MaxNameBytes caps one name (and one name part).
	MaxNameBytes = 1024
	// MaxFieldBytes caps every other short field (ids, places, identifier
	// numbers and types, programmes).
	MaxFieldBytes = 1024
	// MaxRemarksBytes caps the remarks of one listing.
	MaxRemarksBytes = 64 << 10
	// MaxXMLDepth caps the nesting of XML elements.
	MaxXMLDepth = 32
)

// Sentinel errors, matched with errors.Is on an *Error.
var (
	// ErrMalformed: the input is not well-formed in its format (bad CSV
	// quoting, wrong field count, XML syntax, JSON syntax, unknown field),
	// or is truncated.
	ErrMalformed = errors.New("malformed input")
	// ErrHostile: the input holds a construct refused outright (an XML
	// DOCTYPE, ENTITY or other directive).
	ErrHostile = errors.New("refused construct")
	// ErrLimit: the input exceeds one of the documented limits.
	ErrLimit = errors.New("limit exceeded")
	// ErrInvalid: a listing is invalid (no name, an absurd date, an unknown
	// type, a field that is not clean text, ...).
	ErrInvalid = errors.New("invalid listing")
	// ErrDuplicate: two listings of one list have the same id.
	ErrDuplicate = errors.New("duplicate listing id")
	// ErrFormat: the format name is not one of Formats.
	ErrFormat = errors.New("unknown list format")
)

// Error is the refusal of a list: the format, the file, where in it (a line,
// an XML element, a listing id) and why. It never holds the listing's
// personal data beyond its id.
type Error struct {
	Format  string // one of Formats
	File    string // the file's name ("sdn.csv", the path given to Load)
	Line    int    // 1-based line where known, else 0
	Element string // XML element or listing id where known
	Kind    error  // ErrMalformed, ErrHostile, ErrLimit, ErrInvalid, ErrDuplicate or ErrFormat
	Msg     string // what is wrong, in words
}

// Error implements error: "un: consolidated.xml line 12 (INDIVIDUAL QDi.001):
// invalid listing: no name".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Format)
	if e.File != "" {
		b.WriteString(": ")
		b.WriteString(e.File)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Element != "" {
		fmt.Fprintf(&b, " (%s)", e.Element)
	}
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// Load reads a list from path in format: the folder of the OFAC CSV set
// (ofac-sdn), or the file (un, eu-fsf, kycd-jsonl). A file whose name ends in
// ".gz" is decompressed. For kycd-jsonl the source is the file's base name
// without its extensions, in lower case; LoadSource names it.
func Load(format, path string) ([]kycd.ListEntry, error) {
	source := format
	if format == kycd.FormatJSONL {
		source = strings.ToLower(filepath.Base(path))
		if i := strings.IndexByte(source, '.'); i > 0 {
			source = source[:i]
		}
	}
	return LoadSource(format, source, path)
}

// LoadSource is Load with the source name of a kycd-jsonl list given; for the
// publishers' formats source must be empty or the format's name.
func LoadSource(format, source, path string) ([]kycd.ListEntry, error) {
	switch format {
	case kycd.SourceOFACSDN:
		if source != "" && source != format {
			return nil, &Error{Format: format, File: path, Kind: ErrFormat, Msg: "the source of a publisher's list is its format"}
		}
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			return nil, &Error{Format: format, File: path, Kind: ErrMalformed, Msg: "the OFAC CSV set is read from a folder"}
		}
		return ParseOFAC(os.DirFS(path))
	case kycd.SourceUN, kycd.SourceEUFSF, kycd.FormatJSONL:
		if format != kycd.FormatJSONL && source != "" && source != format {
			return nil, &Error{Format: format, File: path, Kind: ErrFormat, Msg: "the source of a publisher's list is its format"}
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, err := maybeGunzip(f, path)
		if err != nil {
			return nil, &Error{Format: format, File: filepath.Base(path), Kind: ErrMalformed, Msg: err.Error()}
		}
		var entries []kycd.ListEntry
		switch format {
		case kycd.SourceUN:
			entries, err = ParseUN(r)
		case kycd.SourceEUFSF:
			entries, err = ParseEU(r)
		default:
			entries, err = ParseJSONL(source, r)
		}
		var le *Error
		if errors.As(err, &le) && le.File == "" {
			le.File = filepath.Base(path)
		}
		return entries, err
	}
	return nil, &Error{Format: format, File: path, Kind: ErrFormat, Msg: fmt.Sprintf("%q is not one of %s", format, strings.Join(Formats, ", "))}
}

// maybeGunzip decompresses r when name ends in ".gz".
func maybeGunzip(r io.Reader, name string) (io.Reader, error) {
	if !strings.HasSuffix(name, ".gz") {
		return r, nil
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	zr.Multistream(false)
	return zr, nil
}

// limitReader reads at most MaxInputBytes from r and fails beyond; it also
// counts the bytes read since the last mark, failing beyond perMark (a cap
// on one record, token or element).
type limitReader struct {
	r       io.Reader
	n       int64 // read in all
	mark    int64 // n at the last mark
	perMark int64
	err     error // the limit error once hit
}

func newLimitReader(r io.Reader, perMark int64) *limitReader {
	return &limitReader{r: r, perMark: perMark}
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > MaxInputBytes {
		l.err = errInputTooLarge
		return 0, l.err
	}
	if l.n-l.mark > l.perMark {
		l.err = errRecordTooLarge
		return 0, l.err
	}
	return n, err
}

// reset starts a new record.
func (l *limitReader) reset() { l.mark = l.n }

var (
	errInputTooLarge  = fmt.Errorf("the input is larger than %d bytes", MaxInputBytes)
	errRecordTooLarge = fmt.Errorf("a record, line or element is larger than %d bytes", MaxRecordBytes)
)

// limitKind tells a limit error from others.
func limitKind(err error) error {
	if errors.Is(err, errInputTooLarge) || errors.Is(err, errRecordTooLarge) {
		return ErrLimit
	}
	return ErrMalformed
}
