package backend_test

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

// Real, tiny images for the icon rules. PNG, GIF and JPEG are encoded by the
// standard library; WebP has no encoder there, so a known-good 1×1 lossless
// WebP file is embedded.

func onePixel() image.Image {
	img := image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.Black, color.White})
	img.SetColorIndex(0, 0, 1)
	return img
}

func tinyPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, onePixel()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tinyGIF(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, onePixel(), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tinyJPEG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, onePixel(), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var tinyWebP = mustBase64("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")

const tinySVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><circle cx="8" cy="8" r="7" fill="#3a6"/></svg>`

func mustBase64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func dataURL(kind string, data []byte) string {
	return "data:image/" + kind + ";base64," + base64.StdEncoding.EncodeToString(data)
}

// wrap breaks the base64 part of a data URL into lines of n characters, as
// some tools emit it.
func wrap(u string, n int) string {
	head, body, _ := strings.Cut(u, ",")
	var b strings.Builder
	for len(body) > n {
		b.WriteString(body[:n] + "\n")
		body = body[n:]
	}
	b.WriteString(body)
	return head + "," + b.String()
}
