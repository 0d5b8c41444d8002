package webui

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/gsmgate/gsmgate"

// TestLayering keeps the seam: the web packages import the core (gateway,
// gateway/model, gateway/webhook) and never the storage or the modem
// packages; nothing below the web imports a web package, directly or not.
func TestLayering(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("the layering test needs the go command:", err)
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	web := func(p string) bool { return p == module+"/webui" || strings.HasPrefix(p, module+"/webui/") }
	forbidden := func(p string) bool {
		return p == module+"/gateway/store" || p == module+"/modem" || strings.HasPrefix(p, module+"/modem/")
	}
	var below []string
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, imports := f[0], f[1:]
		switch {
		case web(pkg):
			checked++
			for _, imp := range imports {
				if forbidden(imp) {
					t.Errorf("%s imports %s: web packages go through the gateway", pkg, imp)
				}
			}
		case !strings.HasPrefix(pkg, module+"/cmd/"):
			below = append(below, pkg)
		}
	}
	if checked == 0 {
		t.Fatal("no web package listed")
	}
	args := append([]string{"list", "-deps", "-f", `{{.ImportPath}}`}, below...)
	if out, err = exec.Command("go", args...).Output(); err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if web(dep) {
			t.Errorf("%s is imported below the web layer (by one of %v)", dep, below)
		}
	}
}
