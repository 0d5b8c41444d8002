package chart

import (
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs from the golden file:\n got %s\nwant %s", name, got, want)
	}
}

// wellFormed parses the SVG as XML: a browser shows nothing of a
// malformed one.
func wellFormed(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
	}
}

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func signal(points ...Point) Line {
	return Line{Title: "Signal of m1 <over 24 h>", Width: 320, Height: 120, From: t0, To: t0.Add(24 * time.Hour),
		YMin: -113, YMax: -51, YTicks: []float64{-110, -90, -70}, YUnit: " dBm", XTicks: 6 * time.Hour, XFormat: "15:04",
		Points: points, Empty: "no samples yet"}
}

func TestLineGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Line
	}{
		{"line-empty.svg", signal()},
		{"line-gap.svg", signal(
			Point{At: t0.Add(time.Hour), Y: -71}, Point{At: t0.Add(2 * time.Hour), Y: -75},
			Point{At: t0.Add(3 * time.Hour), Gap: true},
			Point{At: t0.Add(12 * time.Hour), Y: -120}, // clamped to the bottom
			Point{At: t0.Add(20 * time.Hour), Gap: true},
			Point{At: t0.Add(23 * time.Hour), Y: -51},
			Point{At: t0.Add(25 * time.Hour), Y: -60}, // outside the window: dropped
		)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.c.SVG()
			wellFormed(t, got)
			golden(t, tc.name, got)
		})
	}
}

func TestBarsGolden(t *testing.T) {
	days := []string{"1 Mar", "2 Mar", "3 Mar", "4 Mar"}
	for _, tc := range []struct {
		name string
		c    Bars
	}{
		{"bars-empty.svg", Bars{Title: "Messages per day", Width: 320, Height: 120, Categories: days, LabelEvery: 2,
			Series: []Series{{Name: "sent", Values: []int{0, 0, 0, 0}}}, Empty: "no messages yet"}},
		{"bars.svg", Bars{Title: "Messages & days", Width: 320, Height: 120, Categories: days, LabelEvery: 2,
			Series: []Series{{Name: "sent", Values: []int{3, 0, 7, 1}}, {Name: "failed <!>", Values: []int{1, 0, 0, 2}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.c.SVG()
			wellFormed(t, got)
			golden(t, tc.name, got)
		})
	}
}

func TestNiceMax(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{-3, 1}, {0, 1}, {1, 1}, {2, 2}, {3, 5}, {5, 5}, {6, 10}, {10, 10}, {11, 20}, {199, 200}, {201, 500}, {5001, 10000},
	} {
		if got := NiceMax(tc.in); got != tc.want {
			t.Errorf("NiceMax(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestLabelsAreEscaped: a title or series name is text, never markup.
func TestLabelsAreEscaped(t *testing.T) {
	evil := `<script>alert(1)</script>"`
	for _, s := range []string{
		Bars{Title: evil, Width: 100, Height: 60, Categories: []string{evil}, Series: []Series{{Name: evil, Values: []int{1}}}}.SVG(),
		Line{Title: evil, Width: 100, Height: 60, From: t0, To: t0.Add(time.Hour), YMax: 1, Empty: evil}.SVG(),
	} {
		wellFormed(t, s)
		if strings.Contains(s, "<script") || strings.Contains(s, `""`) {
			t.Fatalf("label not escaped: %s", s)
		}
	}
}

// TestBarHeightsScale: a bar's height is its value over the rounded
// maximum of the plot's height.
func TestBarHeightsScale(t *testing.T) {
	s := Bars{Title: "x", Width: 152, Height: 132, Categories: []string{"a", "b"},
		Series: []Series{{Name: "s", Values: []int{10, 5}}}}.SVG()
	// Plot height 132-22-10 = 100; scale NiceMax(10) = 10.
	for _, want := range []string{`height="100"><title>a s: 10</title>`, `height="50"><title>b s: 5</title>`} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in %s", want, s)
		}
	}
}
