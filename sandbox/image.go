package sandbox

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"slices"
	"sync"
)

// PNG is a small (8×8) PNG of one colour, the provider sandboxes' stand-in
// for a document scan or a selfie. Each colour is encoded once per process
// and the bytes are shared (read-only): a PNG encoder allocates its
// compressor's tables, most of a megabyte, and a sandbox makes several
// images for each applicant or session it seeds at start.
func PNG(c color.RGBA) []byte {
	if b, ok := pngs.Load(c); ok {
		return b.([]byte)
	}
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		for y := range 8 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	b, _ := pngs.LoadOrStore(c, slices.Clip(buf.Bytes())) // shared: an append by a holder copies
	return b.([]byte)
}

// pngs are the PNGs encoded, by colour.
var pngs sync.Map
