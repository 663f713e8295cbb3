package sandbox

import (
	"bytes"
	"image/color"
	"image/png"
	"testing"
)

// TestPNG: an 8×8 PNG of the colour asked for, encoded once per colour.
func TestPNG(t *testing.T) {
	t.Parallel()
	c := color.RGBA{60, 120, 200, 255}
	b := PNG(c)
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 8 || r.Dy() != 8 {
		t.Errorf("bounds %v", r)
	}
	if got := color.RGBAModel.Convert(img.At(3, 5)); got != c {
		t.Errorf("colour %v, want %v", got, c)
	}
	if again := PNG(c); &again[0] != &b[0] {
		t.Error("the colour was encoded again")
	}
	if other := PNG(color.RGBA{0, 80, 160, 255}); bytes.Equal(other, b) {
		t.Error("another colour, the same PNG")
	}
}
