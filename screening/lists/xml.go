package lists

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"github.com/kycd/kycd"
	"io"
)

// xmlReader streams one XML list: a guard between encoding/xml and the input
// that refuses directives (DOCTYPE, ENTITY: no entity is ever declared, so
// none can expand), caps the input and each listing element, and caps the
// nesting depth. encoding/xml itself refuses undeclared entities, invalid
// UTF-8 and unbalanced tags.
type xmlReader struct {
	format string
	lim    *limitReader
	raw    *xml.Decoder
	dec    *xml.Decoder // reads through guard
	depth  int
}

func newXMLReader(format string, r io.Reader) *xmlReader {
	x := &xmlReader{format: format, lim: newLimitReader(r, MaxRecordBytes+64<<10)}
	x.raw = xml.NewDecoder(bufio.NewReaderSize(x.lim, 4096))
	x.raw.Strict = true
	x.dec = xml.NewTokenDecoder(guard{x})
	return x
}

// guard is the token reader dec reads through.
type guard struct{ x *xmlReader }

func (g guard) Token() (xml.Token, error) {
	t, err := g.x.raw.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case xml.Directive:
		return nil, errDirective
	case xml.StartElement:
		g.x.depth++
		if g.x.depth > MaxXMLDepth {
			return nil, errDepth
		}
		if len(t.Attr) > MaxItems {
			return nil, errAttrs
		}
	case xml.EndElement:
		g.x.depth--
	case xml.ProcInst:
		if t.Target != "xml" {
			return nil, errProcInst
		}
	}
	return t, nil
}

var (
	errDirective = errors.New("an XML directive (DOCTYPE, ENTITY, ...) is refused")
	errProcInst  = errors.New("an XML processing instruction is refused")
	errDepth     = fmt.Errorf("XML elements nested deeper than %d", MaxXMLDepth)
	errAttrs     = fmt.Errorf("an XML element with more than %d attributes", MaxItems)
)

// token returns the next token outside listings, starting a new record.
func (x *xmlReader) token() (xml.Token, error) {
	x.lim.reset()
	t, err := x.dec.Token()
	if err == io.EOF {
		return nil, err
	}
	if err != nil {
		return nil, x.fail(err, "")
	}
	return xml.CopyToken(t), nil
}

// decode reads the element started by start into v.
func (x *xmlReader) decode(v any, start *xml.StartElement) error {
	x.lim.reset()
	if err := x.dec.DecodeElement(v, start); err != nil {
		return x.fail(err, start.Name.Local)
	}
	return nil
}

// fail makes the error of err at the decoder's line.
func (x *xmlReader) fail(err error, element string) *Error {
	line, _ := x.raw.InputPos()
	kind := limitKind(err)
	msg := err.Error()
	switch {
	case errors.Is(err, errDirective), errors.Is(err, errProcInst):
		kind = ErrHostile
	case errors.Is(err, errDepth), errors.Is(err, errAttrs):
		kind = ErrLimit
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		msg = "the XML ends before its last element closes (truncated)"
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		line, msg = se.Line, se.Msg
		if msg == "unexpected EOF" {
			msg = "the XML ends before its last element closes (truncated)"
		}
	}
	return &Error{Format: x.format, Line: line, Element: element, Kind: kind, Msg: msg}
}

// invalid makes the error of an invalid listing at the decoder's line.
func (x *xmlReader) invalid(kind error, element, msg string) *Error {
	line, _ := x.raw.InputPos()
	return &Error{Format: x.format, Line: line, Element: element, Kind: kind, Msg: msg}
}

// walk reads a document whose one root element is root, calling fn with
// every start element below it (x.depth tells how deep); what fn does not
// read whole is read next. absent is the error's text when no root came.
func (x *xmlReader) walk(root, absent string, fn func(start xml.StartElement) error) error {
	seen := false
	for {
		t, err := x.token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		start, ok := t.(xml.StartElement)
		if !ok {
			continue
		}
		if x.depth == 1 {
			if seen || start.Name.Local != root {
				return x.invalid(ErrMalformed, start.Name.Local, "the root element is not one "+root)
			}
			seen = true
			continue
		}
		if err := fn(start); err != nil {
			return err
		}
	}
	if !seen {
		return &Error{Format: x.format, Kind: ErrMalformed, Msg: absent}
	}
	return nil
}

// listings gathers the listings of one list: valid, unique by id, at most
// MaxEntries of them.
type listings struct {
	entries []kycd.ListEntry
	seen    map[string]bool
	// idName names the publisher's id in errors ("the logicalId").
	idName string
}

// add adds the listing an element made (or the error of making it).
func (x *xmlReader) add(ls *listings, element string, e kycd.ListEntry, err error) error {
	if err == nil {
		err = Validate(e)
	}
	id := element
	if e.ID != "" && len(e.ID) <= 128 {
		id += " " + e.ID
	}
	switch {
	case err != nil:
		return x.invalid(ErrInvalid, id, err.Error())
	case ls.seen[e.ID]:
		return x.invalid(ErrDuplicate, id, ls.idName+" is already listed")
	case len(ls.entries) >= MaxEntries:
		return x.invalid(ErrLimit, id, fmt.Sprintf("more than %d listings", MaxEntries))
	}
	if ls.seen == nil {
		ls.seen = map[string]bool{}
	}
	ls.seen[e.ID] = true
	ls.entries = append(ls.entries, e)
	return nil
}
