package lists

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/kycd/kycd"
)

// ParseJSONL reads kycd's JSON Lines list format (docs/screening-lists.md):
// one kycd.ListEntry as JSON per line, unknown fields refused, blank lines
// skipped. Each listing's source is source (a "source" field, when given,
// must equal it). Text fields are trimmed and their white space collapsed,
// each script recomputed from its name when not given; then each listing
// must pass Validate and ids must be unique.
func ParseJSONL(source string, r io.Reader) ([]kycd.ListEntry, error) {
	fail := func(line int, id string, kind error, msg string) error {
		return &Error{Format: kycd.FormatJSONL, Line: line, Element: id, Kind: kind, Msg: msg}
	}
	if !ValidSource(source) {
		return nil, fail(0, "", ErrInvalid, fmt.Sprintf("source %q is not 1 to 64 lower-case letters, digits, dots, hyphens and underscores", truncate(source)))
	}
	lim := newLimitReader(r, MaxRecordBytes+64<<10)
	sc := bufio.NewScanner(lim)
	sc.Buffer(make([]byte, 0, 64<<10), MaxRecordBytes)
	var entries []kycd.ListEntry
	seen := map[string]bool{}
	line := 0
	for {
		lim.reset()
		if !sc.Scan() {
			break
		}
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if !utf8.Valid(b) {
			return nil, fail(line, "", ErrMalformed, "the line is not valid UTF-8")
		}
		var e kycd.ListEntry
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fail(line, "", ErrMalformed, jsonMessage(err))
		}
		if dec.More() {
			return nil, fail(line, "", ErrMalformed, "more than one JSON value on the line")
		}
		if e.Source != "" && e.Source != source {
			return nil, fail(line, "", ErrInvalid, fmt.Sprintf("source %q is not the list's source %q", truncate(e.Source), source))
		}
		e.Source = source
		normalize(&e)
		id := ""
		if e.ID != "" && len(e.ID) <= 128 {
			id = "id " + e.ID
		}
		if err := Validate(e); err != nil {
			return nil, fail(line, id, ErrInvalid, err.Error())
		}
		if seen[e.ID] {
			return nil, fail(line, id, ErrDuplicate, "the id is already listed")
		}
		if len(entries) >= MaxEntries {
			return nil, fail(line, id, ErrLimit, fmt.Sprintf("more than %d listings", MaxEntries))
		}
		seen[e.ID] = true
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = errRecordTooLarge
		}
		return nil, fail(line+1, "", limitKind(err), err.Error())
	}
	return entries, nil
}

// jsonMessage describes a JSON error without quoting the input.
func jsonMessage(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("JSON syntax error at byte %d", se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return fmt.Sprintf("a JSON %s where an object is expected", te.Value)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s: a JSON %s where %s is expected", te.Field, te.Value, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON value is truncated"
	}
	return err.Error() // unknown fields: `json: unknown field "x"`
}

// normalize cleans a listing's text fields in place and sets each name's
// script from its text.
func normalize(e *kycd.ListEntry) {
	e.ID, e.Type, e.Remarks, e.ListedOn = clean(e.ID), clean(e.Type), clean(e.Remarks), clean(e.ListedOn)
	for i := range e.Names {
		n := &e.Names[i]
		n.Full, n.Kind, n.Given, n.Family = clean(n.Full), clean(n.Kind), clean(n.Given), clean(n.Family)
		if n.Script == "" {
			n.Script = Script(n.Full)
		}
	}
	for _, list := range [][]string{e.BirthPlaces, e.Nationalities, e.Countries, e.Programmes} {
		for i := range list {
			list[i] = clean(list[i])
		}
	}
	for i := range e.Identifiers {
		id := &e.Identifiers[i]
		id.Type, id.Number, id.Country = clean(id.Type), clean(id.Number), clean(id.Country)
	}
}
