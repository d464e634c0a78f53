//go:build ignore

// gen draws Patchbay's app icon: a rounded tile with two rows of jacks and
// two patch cables. Run from the repository root:
//
//	go run build/icon/gen.go
//
// It writes build/appicon.png (1024×1024, used by Wails and the window) and
// build/windows/icon.ico (PNG-compressed 16–256 px entries).
package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

const size = 1024

func main() {
	img := render(size)
	writePNG("build/appicon.png", img)
	writeICO("build/windows/icon.ico", img, []int{16, 24, 32, 48, 64, 128, 256})
}

// render draws the icon with 4× supersampling for smooth edges.
func render(n int) *image.RGBA {
	const ss = 4
	big := image.NewRGBA(image.Rect(0, 0, n*ss, n*ss))
	N := float64(n * ss)
	jacks := [][2]float64{}
	for row := 0; row < 2; row++ {
		for col := 0; col < 3; col++ {
			jacks = append(jacks, [2]float64{N * (0.28 + 0.22*float64(col)), N * (0.36 + 0.30*float64(row))})
		}
	}
	cables := []struct {
		a, b int
		c    [3]float64
	}{{0, 4, [3]float64{245, 158, 66}}, {2, 3, [3]float64{94, 234, 212}}}
	for y := 0; y < n*ss; y++ {
		for x := 0; x < n*ss; x++ {
			px, py := float64(x)+0.5, float64(y)+0.5
			if !inRoundedRect(px, py, N*0.06, N*0.06, N*0.94, N*0.94, N*0.2) {
				continue
			}
			// Background: a vertical indigo gradient.
			t := py / N
			r, g, b := 49+(30-49)*t, 46+(27-46)*t, 129+(75-129)*t
			for _, j := range jacks {
				d := math.Hypot(px-j[0], py-j[1])
				switch {
				case d < N*0.045:
					r, g, b = 17, 17, 39
				case d < N*0.075:
					r, g, b = 203, 213, 225
				}
			}
			for _, c := range cables {
				if nearCable(px, py, jacks[c.a], jacks[c.b], N*0.035, N) {
					r, g, b = c.c[0], c.c[1], c.c[2]
				}
			}
			big.SetRGBA(x, y, color.RGBA{uint8(r), uint8(g), uint8(b), 255})
		}
	}
	return shrink(big, n)
}

// shrink scales a square image down to n×n by averaging the source pixels
// that fall in each destination pixel (a box filter: right for downscaling).
func shrink(src *image.RGBA, n int) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, n, n))
	m := src.Bounds().Dx()
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			x0, x1 := x*m/n, (x+1)*m/n
			y0, y1 := y*m/n, (y+1)*m/n
			var r, g, b, a, cnt float64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					c := src.RGBAAt(sx, sy)
					// Premultiplied sums keep transparent edges clean.
					r += float64(c.R) * float64(c.A)
					g += float64(c.G) * float64(c.A)
					b += float64(c.B) * float64(c.A)
					a += float64(c.A)
					cnt++
				}
			}
			if a > 0 {
				out.SetRGBA(x, y, color.RGBA{uint8(r / a), uint8(g / a), uint8(b / a), uint8(a / cnt)})
			}
		}
	}
	return out
}

func inRoundedRect(x, y, x0, y0, x1, y1, r float64) bool {
	if x < x0 || x > x1 || y < y0 || y > y1 {
		return false
	}
	cx := math.Max(x0+r, math.Min(x, x1-r))
	cy := math.Max(y0+r, math.Min(y, y1-r))
	return math.Hypot(x-cx, y-cy) <= r
}

// nearCable reports whether (x, y) is within w of a sagging cable (a
// quadratic Bézier curve) between jacks a and b.
func nearCable(x, y float64, a, b [2]float64, w, n float64) bool {
	ctrl := [2]float64{(a[0] + b[0]) / 2, math.Max(a[1], b[1]) + n*0.16}
	best := math.Inf(1)
	for i := 0; i <= 200; i++ {
		t := float64(i) / 200
		u := 1 - t
		px := u*u*a[0] + 2*u*t*ctrl[0] + t*t*b[0]
		py := u*u*a[1] + 2*u*t*ctrl[1] + t*t*b[1]
		best = math.Min(best, math.Hypot(x-px, y-py))
	}
	return best <= w
}

func writePNG(path string, img image.Image) {
	f, err := os.Create(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		panic(err)
	}
}

// writeICO writes an ICO file whose entries are PNG images (supported by
// Windows Vista and later).
func writeICO(path string, src *image.RGBA, sizes []int) {
	var pngs [][]byte
	for _, s := range sizes {
		dst := shrink(src, s)
		var b bytes.Buffer
		png.Encode(&b, dst)
		pngs = append(pngs, b.Bytes())
	}
	var out bytes.Buffer
	binary.Write(&out, binary.LittleEndian, [3]uint16{0, 1, uint16(len(sizes))})
	offset := 6 + 16*len(sizes)
	for i, s := range sizes {
		dim := uint8(s)
		if s >= 256 {
			dim = 0
		}
		binary.Write(&out, binary.LittleEndian, struct {
			W, H, Colors, Reserved uint8
			Planes, BPP            uint16
			Size, Offset           uint32
		}{dim, dim, 0, 0, 1, 32, uint32(len(pngs[i])), uint32(offset)})
		offset += len(pngs[i])
	}
	for _, p := range pngs {
		out.Write(p)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		panic(err)
	}
}
