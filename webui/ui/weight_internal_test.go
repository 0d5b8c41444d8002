package ui

import "testing"

// TestPageWeight: all the UI's JavaScript and CSS stay under 150 KB
// uncompressed (they are sent once and cached for good: hashed URLs).
func TestPageWeight(t *testing.T) {
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for name, as := range a.byName {
		t.Logf("%s: %d bytes", name, len(as.body))
		total += len(as.body)
	}
	t.Logf("total JS + CSS: %d bytes", total)
	if total >= 150*1024 {
		t.Fatalf("JS + CSS weigh %d bytes, over the 150 KB budget", total)
	}
	if total != a.weight() {
		t.Fatalf("weight %d, sum %d", a.weight(), total)
	}
}

// TestStaticURLsCarryContentHash: a static file's URL changes with its
// content, and an unknown hash is not served.
func TestStaticURLsCarryContentHash(t *testing.T) {
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	u := a.url("app.js")
	if u == "/static/app.js" || a.byURL[u[len("/static/"):]] == nil {
		t.Fatalf("app.js is served as %s", u)
	}
	if a.byURL["app.0000.js"] != nil {
		t.Fatal("a made-up hash is served")
	}
}
