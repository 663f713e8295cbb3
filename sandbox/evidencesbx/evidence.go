// Package evidencesbx is the sandbox's evidence bucket: the zips a partner
// would link to when it records a check (GET /sandbox/evidence/{name}),
// good and hostile, so that the checks API can be tried offline.
package evidencesbx

import (
	"archive/zip"
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Files the bucket serves: two valid evidence zips and hostile ones that
// kycd refuses (the check fails with the reason named).
var Files = map[string]string{
	"ident.zip":     "a video ident's evidence: stand-ins for the document scan and the protocol (the check passes)",
	"por.zip":       "a stand-in for a utility bill (the check passes)",
	"traversal.zip": "an entry named ../../etc/cron.d/evil (evidence_invalid: unsafe_path)",
	"bomb.zip":      "20 MiB of zeros packed 1000:1 (evidence_invalid: decompression_limit)",
	"truncated.zip": "the first half of ident.zip (evidence_invalid: not_a_zip)",
	"missing.zip":   "404 (evidence_download_failed)",
}

// contents are the files, each built when first asked for: the bomb is
// 20 MiB deflated, a second of CPU (several under the race detector) that
// a sandbox whose evidence no one fetches, or fetches only the good files
// of, and every kycd a test starts, would otherwise spend.
var contents = map[string]func() []byte{
	"ident.zip":     identZip,
	"por.zip":       lazyZip(map[string]string{"por/utility-bill.txt": "sandbox utility bill"}),
	"traversal.zip": lazyZip(map[string]string{"ident/ok.txt": "fine", "../../etc/cron.d/evil": "* * * * * root sh"}),
	"bomb.zip":      sync.OnceValue(func() []byte { return build(map[string][]byte{"zeros.bin": make([]byte, 20<<20)}) }),
	"truncated.zip": func() []byte { ident := identZip(); return ident[:len(ident)/2] },
}

var identZip = lazyZip(map[string]string{"ident/document-front.txt": "sandbox identity document, front",
	"ident/protocol.txt": "sandbox video ident protocol: identity confirmed"})

// lazyZip returns a zip of entries (name → content), built at its first
// call.
func lazyZip(entries map[string]string) func() []byte {
	return sync.OnceValue(func() []byte {
		files := map[string][]byte{}
		for name, body := range entries {
			files[name] = []byte(body)
		}
		return build(files)
	})
}

// Handler serves the bucket.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name == "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			for _, n := range slices.Sorted(maps.Keys(Files)) {
				fmt.Fprintf(w, "%s\t%s\n", n, Files[n])
			}
			return
		}
		file, ok := contents[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Write(file())
	})
}

func build(entries map[string][]byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range entries {
		w, err := zw.Create(name)
		if err != nil {
			panic(err) // names are constants
		}
		w.Write(body)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}
