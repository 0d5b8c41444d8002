package webui

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gsmgate/gsmgate/webui/httpkit"
)

var ginParam = regexp.MustCompile(`:([A-Za-z_]+)`)

type openapiDocT struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
	Comps   struct {
		Schemas map[string]struct {
			Properties map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

// TestOpenAPICoversRoutes keeps the document true: every registered route
// is documented with its method, every documented operation is registered,
// and every error code of the catalogue is listed.
func TestOpenAPICoversRoutes(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.do("GET", "/api/v1/openapi.json", "", nil)
	if r.status != 200 {
		t.Fatalf("openapi.json: %d", r.status)
	}
	var doc openapiDocT
	r.json(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	registered := map[string]bool{}
	for _, rt := range e.srv.engine.Routes() {
		p := ginParam.ReplaceAllString(rt.Path, "{$1}")
		m := strings.ToLower(rt.Method)
		registered[m+" "+p] = true
		if _, ok := doc.Paths[p][m]; !ok {
			t.Errorf("route %s %s is not in openapi.json", rt.Method, p)
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			if !registered[m+" "+p] {
				t.Errorf("openapi.json documents %s %s, which is not registered", strings.ToUpper(m), p)
			}
		}
	}
	// Every route of the table needs a token, and says which scope.
	for _, rt := range e.srv.routes() {
		p := ginParam.ReplaceAllString(rt.Path, "{$1}")
		var op struct {
			Summary  string `json:"summary"`
			Security []any  `json:"security"`
		}
		if err := json.Unmarshal(doc.Paths[p][strings.ToLower(rt.Method)], &op); err != nil {
			t.Fatal(err)
		}
		if op.Security != nil && len(op.Security) == 0 {
			t.Errorf("%s %s is documented as needing no token", rt.Method, p)
		}
		if !strings.Contains(op.Summary, "scope "+rt.Scope) {
			t.Errorf("%s %s: summary does not name scope %q: %s", rt.Method, p, rt.Scope, op.Summary)
		}
	}
	codes := doc.Comps.Schemas["Error"].Properties["error"].Properties["code"].Enum
	for _, ae := range httpkit.Catalogue() {
		if !slices.Contains(codes, ae.Code) {
			t.Errorf("error code %q is not in the document", ae.Code)
		}
	}
	if len(codes) != len(httpkit.Catalogue()) {
		t.Errorf("document lists %d codes, catalogue has %d", len(codes), len(httpkit.Catalogue()))
	}
}
